/* qemu-virt's serve mode: instead of running once on the input the loader placed, the image
 * answers frames (edgespec/frame.h) until STOP. Chosen on QEMU's command line (semihosting
 * gives the image -append's words):
 *   -append serve            frames on the PL011 UART at 0x09000000, QEMU's first -serial
 *                            chardev: what a board's UART does, one byte per register read
 *   -append serve=semihost   frames through two host files in QEMU's working directory,
 *                            serve.in (read) and serve.out (written), made FIFOs by the
 *                            host: QEMU's PL011 takes one byte per main-loop turn (tens of
 *                            KB/s), a FIFO read takes what the pipe holds. A read blocks, so
 *                            there is no per-byte timeout on this port. */
#ifndef EDGESPEC_QEMU_VIRT_SERVE_UART_H
#define EDGESPEC_QEMU_VIRT_SERVE_UART_H

typedef enum { ES_SERVE_NONE = 0, ES_SERVE_UART = 1, ES_SERVE_SEMIHOST = 2 } es_serve_port_kind;

/* Which serve mode QEMU's command line asks for. */
es_serve_port_kind es_serve_requested(void);

/* Serves until STOP, then prints "edgespec: status=ok" and ends QEMU with status 0. */
__attribute__((noreturn)) void es_serve_until_stop(es_serve_port_kind kind, float *const *outputs);

#endif
