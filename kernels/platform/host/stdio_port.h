/* The serving port of the host and linux runners: a pair of file descriptors (stdin and
 * stdout), a terminal put in raw mode, reads buffered and waited for with poll(). */
#ifndef EDGESPEC_HOST_STDIO_PORT_H
#define EDGESPEC_HOST_STDIO_PORT_H

#include <stddef.h>

#include "edgespec/frame.h"

typedef struct {
  int in_fd, out_fd;
  size_t pos, len;
  int closed; /* the input reached its end */
  unsigned char buffer[64 * 1024];
} es_stdio_port;

/* Fills `port` to read from in_fd and write to out_fd; a terminal on either end is set raw
 * (no echo, no line editing, no newline translation). Returns 0, or -1 if setting a
 * terminal raw failed. */
int es_stdio_port_open(es_stdio_port *state, es_frame_port *port, int in_fd, int out_fd);

#endif
