#include "serve_uart.h"

#include <stdint.h>

#include "../common/pl011_port.h"
#include "../common/virtual_counter.h"
#include "edgespec/serve.h"
#include "semihost.h"

#define ES_VIRT_UART0 0x09000000u
#define ES_SERVE_IN_FILE "serve.in"
#define ES_SERVE_OUT_FILE "serve.out"

extern unsigned char __es_input_base[], __es_input_size[];

static int word_is(const char *word, const char *end, const char *text) {
  while (word < end && *text && *word == *text) word++, text++;
  return word == end && !*text;
}

es_serve_port_kind es_serve_requested(void) {
  static char line[256];
  if (es_semihost_cmdline(line, sizeof line) != 0) return ES_SERVE_NONE;
  /* words separated by spaces; the first is the -kernel path */
  const char *p = line;
  while (*p && *p != ' ') p++;
  while (*p) {
    while (*p == ' ') p++;
    const char *word = p;
    while (*p && *p != ' ') p++;
    if (word_is(word, p, "serve")) return ES_SERVE_UART;
    if (word_is(word, p, "serve=semihost")) return ES_SERVE_SEMIHOST;
  }
  return ES_SERVE_NONE;
}

typedef struct {
  int64_t in, out;
  int64_t pos, len;
  unsigned char buffer[64 * 1024];
} semihost_port;

static int semihost_read_byte(void *ctx, uint32_t timeout_ms) {
  (void)timeout_ms; /* a semihosting read blocks until the pipe holds a byte */
  semihost_port *p = ctx;
  if (p->pos == p->len) {
    const int64_t n = es_semihost_read(p->in, p->buffer, sizeof p->buffer);
    if (n <= 0) return -1; /* the host closed its end */
    p->pos = 0;
    p->len = n;
  }
  return p->buffer[p->pos++];
}

static void semihost_write(void *ctx, const void *bytes, uint32_t n) {
  semihost_port *p = ctx;
  es_semihost_write(p->out, bytes, n);
}

static uint64_t instructions_now(void) { return es_ticks_to_instructions(es_virtual_counter()); }

__attribute__((noreturn)) static void stop(int rc) {
  es_semihost_write0(rc == 0 ? "edgespec: status=ok\n"
                             : "edgespec: error: the serving port closed before a STOP frame\n"
                               "edgespec: status=failed exit=2\n");
  es_semihost_exit(rc == 0 ? 0 : 2);
}

void es_serve_until_stop(es_serve_port_kind kind, float *const *outputs) {
  static es_pl011 uart;
  static semihost_port files;
  es_frame_port port;
  if (kind == ES_SERVE_UART) {
    es_pl011_port_open(&uart, &port, ES_VIRT_UART0);
    es_semihost_write0("edgespec: serving on the PL011 UART at 0x09000000\n");
  } else {
    files.in = es_semihost_open_read(ES_SERVE_IN_FILE);
    files.out = es_semihost_open_write(ES_SERVE_OUT_FILE);
    if (files.in < 0 || files.out < 0) {
      es_semihost_write0("edgespec: error: serve=semihost needs " ES_SERVE_IN_FILE " and " ES_SERVE_OUT_FILE
                         " in QEMU's working directory (FIFOs: mkfifo serve.in serve.out)\n"
                         "edgespec: status=failed exit=2\n");
      es_semihost_exit(2);
    }
    files.pos = files.len = 0;
    port = (es_frame_port){semihost_read_byte, semihost_write, &files};
    es_semihost_write0("edgespec: serving on " ES_SERVE_IN_FILE " / " ES_SERVE_OUT_FILE " (semihosting)\n");
  }
  const uint64_t capacity = (uint64_t)(uintptr_t)__es_input_size;
  const es_serve_config config = {
      &port, __es_input_base, capacity > 0xffffffffu ? 0xffffffc0u : (uint32_t)capacity, outputs,
      instructions_now, 0,
  };
  stop(es_serve(&config));
}
