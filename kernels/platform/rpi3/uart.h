/* The PL011 UART0 of the BCM2837 (0x3F201000) on GPIO 14/15, header pins 8 (TX) and 10
 * (RX): the console and the frame port. 8N1 at ES_UART_BAUD (default 115200) from the
 * 48 MHz clock that config.txt's init_uart_clock=48000000 sets. */
#ifndef EDGESPEC_RPI3_UART_H
#define EDGESPEC_RPI3_UART_H

#include <stdint.h>

void es_uart_init(void);
void es_uart_write(const void *bytes, uint32_t n);
/* A byte 0..255, or -1 when none came within timeout_ms (0: wait forever). */
int es_uart_read_byte(uint32_t timeout_ms);

#endif
