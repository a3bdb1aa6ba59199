/* Host harness of kernels/platform/common/frame.c and serve.c (driven by
 * test/ts/serve/frameC.test.ts):
 *   frame_harness crc        prints the CRC-32 of stdin (decimal)
 *   frame_harness selftest   frame round trips through an in-memory port: resync after
 *                            noise, bad CRC, oversize length (drained), truncated frame
 *   frame_harness serve      es_serve on stdin/stdout with a stub model: y = 2x + 1 and
 *                            sum(x); es_model_invoke fails when x[0] == -1 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "edgespec/frame.h"
#include "edgespec/model.h"
#include "edgespec/serve.h"
#include "stdio_port.h"

static const uint32_t stub_input_bytes[1] = {16};
static const uint32_t stub_output_bytes[2] = {16, 4};
const es_model_info es_model = {"stub-model", 1, 2, stub_input_bytes, stub_output_bytes};

int es_model_invoke(const float *const *inputs, float *const *outputs) {
  if (inputs[0][0] == -1.0f) return 1;
  float sum = 0;
  for (int i = 0; i < 4; i++) {
    outputs[0][i] = 2 * inputs[0][i] + 1;
    sum += inputs[0][i];
  }
  outputs[1][0] = sum;
  return 0;
}

/* An in-memory port: reads from `in` (-1 = timeout once it is used up), writes to `out`. */
typedef struct {
  const unsigned char *in;
  size_t in_len, in_pos;
  unsigned char out[4096];
  size_t out_len;
} memory_port;

static int memory_read(void *ctx, uint32_t timeout_ms) {
  (void)timeout_ms;
  memory_port *m = ctx;
  return m->in_pos < m->in_len ? m->in[m->in_pos++] : -1;
}

static void memory_write(void *ctx, const void *bytes, uint32_t n) {
  memory_port *m = ctx;
  if (m->out_len + n > sizeof m->out) abort();
  memcpy(m->out + m->out_len, bytes, n);
  m->out_len += n;
}

static int passed, failed;

static void check(int ok, const char *what) {
  if (ok) {
    passed++;
  } else {
    failed++;
    printf("FAIL %s\n", what);
  }
}

static size_t make_frame(unsigned char *to, uint16_t type, uint32_t sequence, const char *payload) {
  memory_port m = {0};
  es_frame_port port = {memory_read, memory_write, &m};
  es_frame_piece pieces[2] = {{payload, (uint32_t)(strlen(payload) / 2)}, {payload + strlen(payload) / 2, (uint32_t)(strlen(payload) - strlen(payload) / 2)}};
  es_frame_write(&port, type, sequence, pieces, 2);
  memcpy(to, m.out, m.out_len);
  return m.out_len;
}

static int read_from(const unsigned char *bytes, size_t n, unsigned char *payload, uint32_t capacity,
                     es_frame_header *h, size_t *consumed) {
  memory_port m = {bytes, n, 0, {0}, 0};
  es_frame_port port = {memory_read, memory_write, &m};
  const int rc = es_frame_read(&port, 0, payload, capacity, h);
  if (consumed) *consumed = m.in_pos;
  return rc;
}

static void selftest(void) {
  unsigned char stream[1024], payload[64];
  es_frame_header h;

  check(es_crc32(0, "123456789", 9) == 0xcbf43926u, "crc32 of \"123456789\" is 0xcbf43926");
  check(es_crc32(es_crc32(0, "1234", 4), "56789", 5) == 0xcbf43926u, "crc32 continues across pieces");

  size_t n = make_frame(stream, ES_FRAME_INPUT, 7, "hello, frames");
  check(n == 16 + 13 + 4, "frame size is header + payload + crc");
  check(read_from(stream, n, payload, sizeof payload, &h, NULL) == 0 && h.type == ES_FRAME_INPUT &&
            h.sequence == 7 && h.length == 13 && memcmp(payload, "hello, frames", 13) == 0,
        "round trip");

  /* noise, a console line and a broken magic before the frame */
  size_t k = 0;
  const char noise[] = "edgespec: boot\n\xe5" "E\xe5" "ES\xe5";
  memcpy(stream, noise, sizeof noise - 1);
  k = sizeof noise - 1;
  k += make_frame(stream + k, ES_FRAME_STOP, 9, "");
  check(read_from(stream, k, payload, sizeof payload, &h, NULL) == 0 && h.type == ES_FRAME_STOP && h.sequence == 9 && h.length == 0,
        "resync after noise and partial magics");

  n = make_frame(stream, ES_FRAME_INPUT, 3, "abcdef");
  stream[18] ^= 0x01;
  check(read_from(stream, n, payload, sizeof payload, &h, NULL) == ES_FRAME_ERROR_CRC && h.sequence == 3, "a flipped payload bit fails the CRC");
  n = make_frame(stream, ES_FRAME_INPUT, 3, "abcdef");
  stream[n - 1] ^= 0x80;
  check(read_from(stream, n, payload, sizeof payload, &h, NULL) == ES_FRAME_ERROR_CRC, "a flipped CRC bit fails the CRC");

  /* a frame longer than the buffer is drained: the next frame reads fine */
  n = make_frame(stream, ES_FRAME_INPUT, 4, "0123456789abcdefghij");
  const size_t second = make_frame(stream + n, ES_FRAME_INPUT, 5, "ok");
  size_t consumed = 0;
  check(read_from(stream, n + second, payload, 8, &h, &consumed) == ES_FRAME_ERROR_LENGTH && h.length == 20 && h.sequence == 4,
        "oversize length answered ES_FRAME_ERROR_LENGTH");
  check(consumed == n, "oversize frame drained to its end");
  check(read_from(stream + consumed, second, payload, 8, &h, NULL) == 0 && h.sequence == 5 && memcmp(payload, "ok", 2) == 0,
        "the frame after an oversize one reads");

  n = make_frame(stream, ES_FRAME_INPUT, 6, "truncated payload");
  check(read_from(stream, n - 6, payload, sizeof payload, &h, NULL) == ES_FRAME_ERROR_TIMEOUT && h.sequence == 6, "truncated payload times out");
  check(read_from(stream, 10, payload, sizeof payload, &h, NULL) == ES_FRAME_ERROR_TIMEOUT, "truncated header times out");
  check(read_from(stream, 3, payload, sizeof payload, &h, NULL) == ES_FRAME_ERROR_TIMEOUT, "truncated magic times out");
  check(read_from(stream, 0, payload, sizeof payload, &h, NULL) == -1, "no bytes: -1 (nothing started)");

  memory_port m = {0};
  es_frame_port port = {memory_read, memory_write, &m};
  es_frame_write_error(&port, 11, ES_FRAME_ERROR_MODEL, "boom");
  check(read_from(m.out, m.out_len, payload, sizeof payload, &h, NULL) == 0 && h.type == ES_FRAME_ERROR && h.length == 8 &&
            payload[0] == ES_FRAME_ERROR_MODEL && memcmp(payload + 4, "boom", 4) == 0,
        "es_frame_write_error");
  printf("frame: %d passed, %d failed\n", passed, failed);
}

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t fake_instructions(void) {
  static uint64_t count;
  return count += 1000;
}

static int serve(void) {
  static es_stdio_port state;
  es_frame_port port;
  es_stdio_port_open(&state, &port, STDIN_FILENO, STDOUT_FILENO);
  static unsigned char input[256] __attribute__((aligned(64)));
  static float out0[16] __attribute__((aligned(64))), out1[16] __attribute__((aligned(64)));
  float *outputs[2] = {out0, out1};
  const es_serve_config config = {&port, input, sizeof input, outputs, fake_instructions, now_ns};
  printf("edgespec: model=stub-model inputs=1 outputs=2\n");
  fflush(stdout);
  const int rc = es_serve(&config);
  printf(rc == 0 ? "edgespec: status=ok\n" : "edgespec: status=failed exit=2\n");
  return rc == 0 ? 0 : 2;
}

int main(int argc, char **argv) {
  if (argc == 2 && strcmp(argv[1], "crc") == 0) {
    static unsigned char data[1 << 20];
    const size_t n = fread(data, 1, sizeof data, stdin);
    printf("%u\n", es_crc32(0, data, n));
    return 0;
  }
  if (argc == 2 && strcmp(argv[1], "selftest") == 0) {
    selftest();
    return failed != 0;
  }
  if (argc == 2 && strcmp(argv[1], "serve") == 0) return serve();
  fprintf(stderr, "usage: frame_harness crc|selftest|serve\n");
  return 2;
}
