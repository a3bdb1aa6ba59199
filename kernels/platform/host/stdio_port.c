#define _DEFAULT_SOURCE
#define _POSIX_C_SOURCE 200809L
#include "stdio_port.h"

#include <errno.h>
#include <poll.h>
#include <termios.h>
#include <unistd.h>

static int read_byte(void *ctx, uint32_t timeout_ms) {
  es_stdio_port *p = ctx;
  while (p->pos == p->len) {
    if (p->closed) return -1;
    struct pollfd fd = {.fd = p->in_fd, .events = POLLIN};
    const int ready = poll(&fd, 1, timeout_ms ? (int)timeout_ms : -1);
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) return -1;
    const ssize_t n = read(p->in_fd, p->buffer, sizeof p->buffer);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) {
      p->closed = 1;
      return -1;
    }
    p->pos = 0;
    p->len = (size_t)n;
  }
  return p->buffer[p->pos++];
}

static void write_all(void *ctx, const void *bytes, uint32_t n) {
  es_stdio_port *p = ctx;
  const unsigned char *b = bytes;
  while (n) {
    const ssize_t written = write(p->out_fd, b, n);
    if (written < 0 && errno == EINTR) continue;
    if (written <= 0) return; /* the host went away; reads will see the end */
    b += written;
    n -= (uint32_t)written;
  }
}

static int make_raw(int fd) {
  if (!isatty(fd)) return 0;
  struct termios t;
  if (tcgetattr(fd, &t) != 0) return -1;
  cfmakeraw(&t);
  return tcsetattr(fd, TCSANOW, &t);
}

int es_stdio_port_open(es_stdio_port *state, es_frame_port *port, int in_fd, int out_fd) {
  state->in_fd = in_fd;
  state->out_fd = out_fd;
  state->pos = state->len = 0;
  state->closed = 0;
  port->read_byte = read_byte;
  port->write = write_all;
  port->ctx = state;
  return make_raw(in_fd) | make_raw(out_fd);
}
