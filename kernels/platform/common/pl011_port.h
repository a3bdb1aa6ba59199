/* An ARM PL011 UART as the serving port (edgespec/frame.h): qemu-virt's UART at 0x09000000
 * (QEMU's -serial chardev), the Raspberry Pi's UART0. Polled, no interrupts; read timeouts
 * count the generic timer (cntvct_el0 at cntfrq_el0). */
#ifndef EDGESPEC_PL011_PORT_H
#define EDGESPEC_PL011_PORT_H

#include <stdint.h>

#include "edgespec/frame.h"

typedef struct {
  uintptr_t base;
} es_pl011;

/* Turns the UART on for 8N1 with its FIFOs (the baud rate registers are left as they are:
 * the platform sets them when its UART clock needs it) and fills `port`. */
void es_pl011_port_open(es_pl011 *uart, es_frame_port *port, uintptr_t base);

#endif
