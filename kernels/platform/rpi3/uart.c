#include "uart.h"

#include "../common/pl011.h"
#include "../common/virtual_counter.h"

#ifndef ES_UART_BAUD
#define ES_UART_BAUD 115200u
#endif
#define UART_CLOCK_HZ 48000000u

#define GPIO_BASE 0x3F200000ul
#define GPFSEL1 (GPIO_BASE + 0x04)
#define GPPUD (GPIO_BASE + 0x94)
#define GPPUDCLK0 (GPIO_BASE + 0x98)

#define UART_BASE 0x3F201000ul

#define IC_ENABLE_IRQS_2 0x3F00B214ul          /* BCM2835 interrupt controller, GPU IRQs 32..63 */
#define IRQ_UART0 57
#define LOCAL_GPU_ROUTING 0x4000000Cul          /* ARM local peripherals (BCM2836 control) */
#define LOCAL_CORE0_TIMER_CONTROL 0x40000040ul
#define TIMER_CNTV_IRQ (1u << 3)

static inline void write32(uintptr_t addr, uint32_t v) { *(volatile uint32_t *)addr = v; }
static inline uint32_t read32(uintptr_t addr) { return *(volatile uint32_t *)addr; }

static void delay_cycles(uint32_t n) {
  while (n--) __asm__ volatile("nop");
}

/* Waiting sleeps in wfi until the UART's receive interrupt (or the virtual timer, for a
 * timeout) is pending: with DAIF masked no handler runs, the core only wakes. A core that
 * polled the UART instead would keep QEMU's device lock busy, and QEMU moves one received
 * byte per turn of its main loop. */
static void enable_wakeups(void) {
  write32(IC_ENABLE_IRQS_2, 1u << (IRQ_UART0 - 32));
  write32(LOCAL_GPU_ROUTING, 0); /* GPU interrupts to core 0's IRQ */
  write32(LOCAL_CORE0_TIMER_CONTROL, TIMER_CNTV_IRQ);
}

void es_uart_init(void) {
  es_pl011_disable(UART_BASE);
  /* GPIO 14 and 15 to ALT0 (TXD0, RXD0), pulls off (BCM2835 manual: GPPUD, then clock). */
  uint32_t sel = read32(GPFSEL1);
  sel &= ~((7u << 12) | (7u << 15));
  sel |= (4u << 12) | (4u << 15);
  write32(GPFSEL1, sel);
  write32(GPPUD, 0);
  delay_cycles(150);
  write32(GPPUDCLK0, (1u << 14) | (1u << 15));
  delay_cycles(150);
  write32(GPPUDCLK0, 0);

  *es_pl011_reg(UART_BASE, ES_PL011_ICR) = ES_PL011_ICR_ALL;
  /* divisor = clock / (16 * baud) in 16.6 fixed point, rounded */
  const uint32_t divisor64 = (UART_CLOCK_HZ * 4u + ES_UART_BAUD / 2u) / ES_UART_BAUD;
  *es_pl011_reg(UART_BASE, ES_PL011_IBRD) = divisor64 >> 6;
  *es_pl011_reg(UART_BASE, ES_PL011_FBRD) = divisor64 & 63u;
  *es_pl011_reg(UART_BASE, ES_PL011_LCR_H) = ES_PL011_LCR_H_FEN | ES_PL011_LCR_H_WLEN_8;
  /* only to wake the core: see es_uart_read_byte */
  *es_pl011_reg(UART_BASE, ES_PL011_IMSC) = ES_PL011_IMSC_RXIM | ES_PL011_IMSC_RTIM;
  *es_pl011_reg(UART_BASE, ES_PL011_CR) = ES_PL011_CR_UARTEN | ES_PL011_CR_TXE | ES_PL011_CR_RXE;
  enable_wakeups();
}

void es_uart_write(const void *bytes, uint32_t n) { es_pl011_write(UART_BASE, bytes, n); }

int es_uart_read_byte(uint32_t timeout_ms) {
  if (!es_pl011_rx_empty(UART_BASE)) return es_pl011_read_data(UART_BASE);
  uint64_t frequency;
  __asm__ volatile("mrs %0, cntfrq_el0" : "=r"(frequency));
  const uint64_t deadline = es_virtual_counter() + frequency / 1000u * timeout_ms;
  if (timeout_ms) {
    __asm__ volatile("msr cntv_cval_el0, %0\n\tmsr cntv_ctl_el0, %1\n\tisb" : : "r"(deadline), "r"((uint64_t)1) : "memory");
  }
  int byte = -1;
  for (;;) {
    if (!es_pl011_rx_empty(UART_BASE)) {
      byte = es_pl011_read_data(UART_BASE);
      break;
    }
    if (timeout_ms && es_virtual_counter() >= deadline) break;
    __asm__ volatile("dsb sy\n\twfi" : : : "memory");
  }
  if (timeout_ms) __asm__ volatile("msr cntv_ctl_el0, xzr\n\tisb" : : : "memory");
  return byte;
}
