#include "pl011_port.h"

enum {
  UART_DR = 0x00,
  UART_FR = 0x18,
  UART_LCR_H = 0x2c,
  UART_CR = 0x30,
  UART_IMSC = 0x38,
  UART_ICR = 0x44,
  FR_BUSY = 1u << 3,
  FR_RXFE = 1u << 4,
  FR_TXFF = 1u << 5,
  LCR_H_FEN = 1u << 4,
  LCR_H_WLEN_8 = 3u << 5,
  CR_UARTEN = 1u << 0,
  CR_TXE = 1u << 8,
  CR_RXE = 1u << 9,
};

#ifndef ES_PL011_POLL_PAUSE
#define ES_PL011_POLL_PAUSE 4096 /* instructions */
#endif

static inline volatile uint32_t *reg(const es_pl011 *uart, uint32_t offset) {
  return (volatile uint32_t *)(uart->base + offset);
}

static uint64_t counter(void) {
  uint64_t v;
  __asm__ volatile("isb\n\tmrs %0, cntvct_el0" : "=r"(v) : : "memory");
  return v;
}

static int read_byte(void *ctx, uint32_t timeout_ms) {
  const es_pl011 *uart = ctx;
  if (*reg(uart, UART_FR) & FR_RXFE) {
    uint64_t frequency;
    __asm__ volatile("mrs %0, cntfrq_el0" : "=r"(frequency));
    const uint64_t ticks = (uint64_t)timeout_ms * (frequency / 1000u);
    const uint64_t start = counter();
    while (*reg(uart, UART_FR) & FR_RXFE) {
      if (timeout_ms && counter() - start >= ticks) return -1;
      /* A pause of plain instructions between register reads: under QEMU's -icount the
       * counter is the instruction count, and a register read costs far more host time
       * than an instruction, so without it a 2 s timeout would take minutes. */
      uint64_t n = ES_PL011_POLL_PAUSE / 64;
      __asm__ volatile("1:\n\t.rept 62\n\tnop\n\t.endr\n\tsubs %0, %0, #1\n\tb.ne 1b" : "+r"(n));
    }
  }
  return (int)(*reg(uart, UART_DR) & 0xffu); /* bits 8..11 are line errors: the CRC catches them */
}

static void write_bytes(void *ctx, const void *bytes, uint32_t n) {
  const es_pl011 *uart = ctx;
  const unsigned char *b = bytes;
  for (uint32_t i = 0; i < n; i++) {
    while (*reg(uart, UART_FR) & FR_TXFF) {
    }
    *reg(uart, UART_DR) = b[i];
  }
}

void es_pl011_port_open(es_pl011 *uart, es_frame_port *port, uintptr_t base) {
  uart->base = base;
  *reg(uart, UART_CR) = 0;
  while (*reg(uart, UART_FR) & FR_BUSY) {
  }
  *reg(uart, UART_IMSC) = 0;
  *reg(uart, UART_ICR) = 0x7ff;
  *reg(uart, UART_LCR_H) = LCR_H_FEN | LCR_H_WLEN_8;
  *reg(uart, UART_CR) = CR_UARTEN | CR_TXE | CR_RXE;
  port->read_byte = read_byte;
  port->write = write_bytes;
  port->ctx = uart;
}
