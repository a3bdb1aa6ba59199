/* The ARM PL011 UART's registers and the loops every platform runs on it the same way (ARM
 * PrimeCell UART (PL011) Technical Reference Manual): qemu-virt's UART at 0x09000000
 * (pl011_port.c, polled) and the Raspberry Pi's UART0 at 0x3F201000 (rpi3/uart.c, which
 * sleeps in wfi for its receive interrupt). Header only: each platform's build.json lists
 * its own sources. */
#ifndef EDGESPEC_PLATFORM_PL011_H
#define EDGESPEC_PLATFORM_PL011_H

#include <stdint.h>

enum {
  ES_PL011_DR = 0x00,
  ES_PL011_FR = 0x18,
  ES_PL011_IBRD = 0x24,
  ES_PL011_FBRD = 0x28,
  ES_PL011_LCR_H = 0x2c,
  ES_PL011_CR = 0x30,
  ES_PL011_IMSC = 0x38,
  ES_PL011_ICR = 0x44,
};

enum {
  ES_PL011_FR_BUSY = 1u << 3,
  ES_PL011_FR_RXFE = 1u << 4,
  ES_PL011_FR_TXFF = 1u << 5,
  ES_PL011_LCR_H_FEN = 1u << 4,
  ES_PL011_LCR_H_WLEN_8 = 3u << 5,
  ES_PL011_CR_UARTEN = 1u << 0,
  ES_PL011_CR_TXE = 1u << 8,
  ES_PL011_CR_RXE = 1u << 9,
  ES_PL011_IMSC_RXIM = 1u << 4,
  ES_PL011_IMSC_RTIM = 1u << 6,
  ES_PL011_ICR_ALL = 0x7ff,
};

static inline volatile uint32_t *es_pl011_reg(uintptr_t base, uint32_t offset) {
  return (volatile uint32_t *)(base + offset);
}

/* Turns the UART off and waits until it has sent what it was sending. */
static inline void es_pl011_disable(uintptr_t base) {
  *es_pl011_reg(base, ES_PL011_CR) = 0;
  while (*es_pl011_reg(base, ES_PL011_FR) & ES_PL011_FR_BUSY) {
  }
}

static inline int es_pl011_rx_empty(uintptr_t base) {
  return (*es_pl011_reg(base, ES_PL011_FR) & ES_PL011_FR_RXFE) != 0;
}

/* The received byte (bits 8..11 are line errors: the frames' CRC catches them). */
static inline int es_pl011_read_data(uintptr_t base) {
  return (int)(*es_pl011_reg(base, ES_PL011_DR) & 0xffu);
}

/* Sends n bytes, waiting while the transmit FIFO is full. */
static inline void es_pl011_write(uintptr_t base, const void *bytes, uint32_t n) {
  const unsigned char *b = bytes;
  for (uint32_t i = 0; i < n; i++) {
    while (*es_pl011_reg(base, ES_PL011_FR) & ES_PL011_FR_TXFF) {
    }
    *es_pl011_reg(base, ES_PL011_DR) = b[i];
  }
}

#endif
