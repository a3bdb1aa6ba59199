/* host model runner: the same generated model, built for the build machine.
 *
 *   model INPUT.bin OUTPUT.bin [--repeat N]
 *   model --serve          (or EDGESPEC_SERVE=1 in the environment, e.g. on a kernel
 *                           command line for an /init)
 *
 * Serve mode: stdin/stdout is the port of the frame protocol (edgespec/frame.h): READY,
 * then an OUTPUT or ERROR frame for each INPUT frame, until STOP (es_serve, serve.h);
 * console lines share stdout with the frames.
 *
 * Reads the inputs (edgespec/io_format.h), runs the model N times (default 1), writes the
 * outputs of the last run to OUTPUT.bin (through a temporary file and a rename) and prints
 * the lines of edgespec/platform.h, with wall-clock nanoseconds instead of instructions:
 *   edgespec: invoke_ns=N             the fastest run
 *   edgespec: invoke_ns_median=N      the median run */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "edgespec/debug_tensors.h"
#include "edgespec/io_format.h"
#include "edgespec/model.h"
#include "edgespec/platform.h"
#include "edgespec/profile.h"
#include "edgespec/serve.h"
#include "stdio_port.h"

static void finish(es_exit_code code) {
  if (code == ES_EXIT_OK) printf("edgespec: status=ok\n");
  else printf("edgespec: status=failed exit=%d\n", (int)code);
  fflush(stdout);
  exit((int)code);
}

static void fail(es_exit_code code, const char *fmt, const char *a, const char *b) {
  printf("edgespec: error: ");
  printf(fmt, a, b);
  printf("\n");
  finish(code);
}

static void on_fatal_signal(int sig, siginfo_t *info, void *context) {
  (void)context;
  char line[160];
  const char *name = sig == SIGSEGV ? "SIGSEGV" : sig == SIGBUS ? "SIGBUS" : sig == SIGILL ? "SIGILL" : "SIGFPE";
  const int n = snprintf(line, sizeof line, "edgespec: fault: signal %s address=%p\nedgespec: status=failed exit=3\n",
                         name, info->si_addr);
  if (n > 0) {
    ssize_t ignored = write(STDOUT_FILENO, line, (size_t)n);
    (void)ignored;
  }
  _exit(ES_EXIT_FAULT);
}

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int compare_u64(const void *a, const void *b) {
  const uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

static void *read_file(const char *path, uint64_t *size) {
  FILE *f = fopen(path, "rb");
  if (!f) fail(ES_EXIT_BAD_INPUT, "cannot open input %s: %s", path, strerror(errno));
  if (fseek(f, 0, SEEK_END) != 0) fail(ES_EXIT_BAD_INPUT, "cannot read input %s%s", path, "");
  const long length = ftell(f);
  rewind(f);
  void *data = NULL;
  if (length < 0 || posix_memalign(&data, ES_IO_ALIGN, (size_t)length + ES_IO_ALIGN) != 0)
    fail(ES_EXIT_BAD_INPUT, "cannot read input %s%s", path, "");
  if (fread(data, 1, (size_t)length, f) != (size_t)length) fail(ES_EXIT_BAD_INPUT, "cannot read input %s%s", path, "");
  fclose(f);
  *size = (uint64_t)length;
  return data;
}

static void write_outputs(const char *path, float *const *outputs) {
  es_io_header header;
  const uint64_t size = es_io_make_header(&header, ES_IO_KIND_OUTPUTS, (uint32_t)es_model.n_outputs,
                                          es_model.output_bytes);
  char *file = calloc(1, (size_t)size);
  if (!file) fail(ES_EXIT_OUTPUT, "out of memory writing %s%s", path, "");
  memcpy(file, &header, 24u + 4u * (size_t)es_model.n_outputs);
  uint64_t offset = es_io_data_offset((uint32_t)es_model.n_outputs);
  for (int32_t i = 0; i < es_model.n_outputs; i++) {
    memcpy(file + offset, outputs[i], es_model.output_bytes[i]);
    offset += es_io_round_up(es_model.output_bytes[i]);
  }
  char partial[4096];
  snprintf(partial, sizeof partial, "%s.partial-%ld", path, (long)getpid());
  FILE *f = fopen(partial, "wb");
  if (!f) fail(ES_EXIT_OUTPUT, "cannot create %s: %s", partial, strerror(errno));
  const int ok = fwrite(file, 1, (size_t)size, f) == (size_t)size;
  if (fclose(f) != 0 || !ok) {
    remove(partial);
    fail(ES_EXIT_OUTPUT, "cannot write %s%s", partial, "");
  }
  if (rename(partial, path) != 0) {
    remove(partial);
    fail(ES_EXIT_OUTPUT, "cannot rename the output to %s: %s", path, strerror(errno));
  }
  free(file);
  printf("edgespec: output_file=%s bytes=%llu\n", path, (unsigned long long)size);
}

static int serve_requested(int argc, char **argv) {
  if (argc == 2 && strcmp(argv[1], "--serve") == 0) return 1;
  const char *env = getenv("EDGESPEC_SERVE");
  return argc == 1 && env && strcmp(env, "1") == 0;
}

static float *alloc_output(uint32_t bytes) {
  void *p = NULL;
  if (posix_memalign(&p, ES_IO_ALIGN, es_io_round_up(bytes) + ES_IO_ALIGN) != 0)
    fail(ES_EXIT_MODEL_ERROR, "out of memory%s%s", "", "");
  return p;
}

static void serve(void) {
  static es_stdio_port state;
  es_frame_port port;
  signal(SIGPIPE, SIG_IGN); /* a host that goes away ends the loop through the read side */
  if (es_stdio_port_open(&state, &port, STDIN_FILENO, STDOUT_FILENO) != 0)
    fail(ES_EXIT_BAD_INPUT, "cannot put the terminal in raw mode: %s%s", strerror(errno), "");
  uint64_t capacity = es_io_data_offset((uint32_t)es_model.n_inputs);
  for (int32_t i = 0; i < es_model.n_inputs; i++) capacity += es_io_round_up(es_model.input_bytes[i]);
  void *input = NULL;
  if (capacity > UINT32_MAX || posix_memalign(&input, ES_IO_ALIGN, (size_t)capacity) != 0)
    fail(ES_EXIT_MODEL_ERROR, "out of memory for the input buffer%s%s", "", "");
  float *outputs[ES_MAX_TENSORS];
  for (int32_t i = 0; i < es_model.n_outputs; i++) outputs[i] = alloc_output(es_model.output_bytes[i]);
  const es_serve_config config = {&port, input, (uint32_t)capacity, outputs, NULL, now_ns};
  fflush(stdout);
  if (es_serve(&config) != 0) fail(ES_EXIT_BAD_INPUT, "the serving port closed before a STOP frame%s%s", "", "");
  finish(ES_EXIT_OK);
}

/* An index the model was given lies outside the axis it selects along (edgespec/model.h). */
static void bad_index(const es_input_fault *f) {
  printf("edgespec: error: input %s: index %lld (element %d) is outside [%lld, %lld), the size of the axis it selects along\n",
         f->tensor, (long long)f->index, (int)f->position, (long long)f->low, (long long)f->bound);
  finish(ES_EXIT_BAD_INPUT);
}

int main(int argc, char **argv) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_fatal_signal;
  sa.sa_flags = SA_SIGINFO;
  sigaction(SIGSEGV, &sa, NULL);
  sigaction(SIGBUS, &sa, NULL);
  sigaction(SIGILL, &sa, NULL);
  sigaction(SIGFPE, &sa, NULL);

  const int serving = serve_requested(argc, argv);
  long repeat = 1;
  if (!serving && argc == 5 && strcmp(argv[3], "--repeat") == 0) {
    char *end;
    repeat = strtol(argv[4], &end, 10);
    if (*end || repeat < 1 || repeat > 1000000) fail(ES_EXIT_BAD_INPUT, "--repeat wants a count from 1 to 1000000, got %s%s", argv[4], "");
  } else if (!serving && argc != 3) {
    fail(ES_EXIT_BAD_INPUT, "usage: %s INPUT.bin OUTPUT.bin [--repeat N], or %s --serve", argv[0], argv[0]);
  }
  printf("edgespec: model=%s inputs=%d outputs=%d\n", es_model.name, (int)es_model.n_inputs,
         (int)es_model.n_outputs);
  if (es_model.n_inputs < 1 || es_model.n_inputs > ES_MAX_TENSORS || es_model.n_outputs < 1 ||
      es_model.n_outputs > ES_MAX_TENSORS)
    fail(ES_EXIT_MODEL_ERROR, "the model's input or output count is outside 1..16%s%s", "", "");
  if (serving) serve();

  uint64_t size = 0;
  void *file = read_file(argv[1], &size);
  const void *inputs[ES_MAX_TENSORS];
  char message[200];
  const char *problem = es_io_parse(file, size, ES_IO_KIND_INPUTS, (uint32_t)es_model.n_inputs,
                                    es_model.input_bytes, inputs, message, sizeof message);
  if (problem) fail(ES_EXIT_BAD_INPUT, "input %s: %s", argv[1], problem);

  float *outputs[ES_MAX_TENSORS];
  for (int32_t i = 0; i < es_model.n_outputs; i++) outputs[i] = alloc_output(es_model.output_bytes[i]);

  uint64_t *times = malloc((size_t)repeat * sizeof *times);
  if (!times) fail(ES_EXIT_MODEL_ERROR, "out of memory%s%s", "", "");
  for (long r = 0; r < repeat; r++) {
    if (es_model_reset) es_model_reset(); /* each repeat computes the first step of a model with state */
    const uint64_t start = now_ns();
    const int rc = es_model_invoke((const float *const *)inputs, outputs);
    times[r] = now_ns() - start;
    if (rc == ES_MODEL_BAD_INPUT && &es_model_input_fault != NULL) bad_index(&es_model_input_fault);
    if (rc != 0) fail(ES_EXIT_MODEL_ERROR, "es_model_invoke failed%s%s", "", "");
    /* debug builds only: the first inference's intermediate tensors are complete */
    if (r == 0 && es_debug_tensors_finish && es_debug_tensors_finish() != 0)
      fail(ES_EXIT_OUTPUT, "cannot write %s in the current directory%s", ES_DEBUG_FILE, "");
  }
  qsort(times, (size_t)repeat, sizeof *times, compare_u64);
  printf("edgespec: invoke_ns=%llu\n", (unsigned long long)times[0]);
  printf("edgespec: invoke_ns_median=%llu\n", (unsigned long long)times[repeat / 2]);
  printf("edgespec: repeats=%ld\n", repeat);
  fflush(stdout);
  if (es_profile_report) es_profile_report(); /* profiling builds only: the last run's steps */
  write_outputs(argv[2], outputs);
  finish(ES_EXIT_OK);
  return 0;
}
