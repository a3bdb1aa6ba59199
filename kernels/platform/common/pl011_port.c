#include "pl011_port.h"

#include "pl011.h"

#ifndef ES_PL011_POLL_PAUSE
#define ES_PL011_POLL_PAUSE 4096 /* instructions */
#endif

static uint64_t counter(void) {
  uint64_t v;
  __asm__ volatile("isb\n\tmrs %0, cntvct_el0" : "=r"(v) : : "memory");
  return v;
}

static int read_byte(void *ctx, uint32_t timeout_ms) {
  const es_pl011 *uart = ctx;
  if (es_pl011_rx_empty(uart->base)) {
    uint64_t frequency;
    __asm__ volatile("mrs %0, cntfrq_el0" : "=r"(frequency));
    const uint64_t ticks = (uint64_t)timeout_ms * (frequency / 1000u);
    const uint64_t start = counter();
    while (es_pl011_rx_empty(uart->base)) {
      if (timeout_ms && counter() - start >= ticks) return -1;
      /* A pause of plain instructions between register reads: under QEMU's -icount the
       * counter is the instruction count, and a register read costs far more host time
       * than an instruction, so without it a 2 s timeout would take minutes. */
      uint64_t n = ES_PL011_POLL_PAUSE / 64;
      __asm__ volatile("1:\n\t.rept 62\n\tnop\n\t.endr\n\tsubs %0, %0, #1\n\tb.ne 1b" : "+r"(n));
    }
  }
  return es_pl011_read_data(uart->base);
}

static void write_bytes(void *ctx, const void *bytes, uint32_t n) {
  const es_pl011 *uart = ctx;
  es_pl011_write(uart->base, bytes, n);
}

void es_pl011_port_open(es_pl011 *uart, es_frame_port *port, uintptr_t base) {
  uart->base = base;
  es_pl011_disable(base);
  *es_pl011_reg(base, ES_PL011_IMSC) = 0;
  *es_pl011_reg(base, ES_PL011_ICR) = ES_PL011_ICR_ALL;
  *es_pl011_reg(base, ES_PL011_LCR_H) = ES_PL011_LCR_H_FEN | ES_PL011_LCR_H_WLEN_8;
  *es_pl011_reg(base, ES_PL011_CR) = ES_PL011_CR_UARTEN | ES_PL011_CR_TXE | ES_PL011_CR_RXE;
  port->read_byte = read_byte;
  port->write = write_bytes;
  port->ctx = uart;
}
