#include "uart.h"

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
#define UART_DR (UART_BASE + 0x00)
#define UART_FR (UART_BASE + 0x18)
#define UART_IBRD (UART_BASE + 0x24)
#define UART_FBRD (UART_BASE + 0x28)
#define UART_LCRH (UART_BASE + 0x2c)
#define UART_CR (UART_BASE + 0x30)
#define UART_IMSC (UART_BASE + 0x38)
#define UART_ICR (UART_BASE + 0x44)

#define IC_ENABLE_IRQS_2 0x3F00B214ul          /* BCM2835 interrupt controller, GPU IRQs 32..63 */
#define IRQ_UART0 57
#define LOCAL_GPU_ROUTING 0x4000000Cul          /* ARM local peripherals (BCM2836 control) */
#define LOCAL_CORE0_TIMER_CONTROL 0x40000040ul
#define TIMER_CNTV_IRQ (1u << 3)

enum {
  FR_BUSY = 1u << 3,
  FR_RXFE = 1u << 4,
  FR_TXFF = 1u << 5,
  LCRH_FEN = 1u << 4,
  LCRH_WLEN8 = 3u << 5,
  CR_UARTEN = 1u << 0,
  CR_TXE = 1u << 8,
  CR_RXE = 1u << 9,
  IMSC_RXIM = 1u << 4,
  IMSC_RTIM = 1u << 6,
};

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
  write32(UART_CR, 0);
  while (read32(UART_FR) & FR_BUSY) {
  }
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

  write32(UART_ICR, 0x7ff);
  /* divisor = clock / (16 * baud) in 16.6 fixed point, rounded */
  const uint32_t divisor64 = (UART_CLOCK_HZ * 4u + ES_UART_BAUD / 2u) / ES_UART_BAUD;
  write32(UART_IBRD, divisor64 >> 6);
  write32(UART_FBRD, divisor64 & 63u);
  write32(UART_LCRH, LCRH_FEN | LCRH_WLEN8);
  write32(UART_IMSC, IMSC_RXIM | IMSC_RTIM); /* only to wake the core: see es_uart_read_byte */
  write32(UART_CR, CR_UARTEN | CR_TXE | CR_RXE);
  enable_wakeups();
}

void es_uart_write(const void *bytes, uint32_t n) {
  const unsigned char *p = bytes;
  for (uint32_t i = 0; i < n; i++) {
    while (read32(UART_FR) & FR_TXFF) {
    }
    write32(UART_DR, p[i]);
  }
}

int es_uart_read_byte(uint32_t timeout_ms) {
  if (!(read32(UART_FR) & FR_RXFE)) return (int)(read32(UART_DR) & 0xff);
  uint64_t frequency;
  __asm__ volatile("mrs %0, cntfrq_el0" : "=r"(frequency));
  const uint64_t deadline = es_virtual_counter() + frequency / 1000u * timeout_ms;
  if (timeout_ms) {
    __asm__ volatile("msr cntv_cval_el0, %0\n\tmsr cntv_ctl_el0, %1\n\tisb" : : "r"(deadline), "r"((uint64_t)1) : "memory");
  }
  int byte = -1;
  for (;;) {
    if (!(read32(UART_FR) & FR_RXFE)) {
      byte = (int)(read32(UART_DR) & 0xff);
      break;
    }
    if (timeout_ms && es_virtual_counter() >= deadline) break;
    __asm__ volatile("dsb sy\n\twfi" : : : "memory");
  }
  if (timeout_ms) __asm__ volatile("msr cntv_ctl_el0, xzr\n\tisb" : : : "memory");
  return byte;
}
