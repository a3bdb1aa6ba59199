/* rpi3 model server: brings up the UART, says which model this is, then serves frames on
 * the UART (edgespec/serve.h): READY, an OUTPUT for each INPUT, until STOP; then prints the
 * status line and parks.
 *
 * Build with -DES_OUTPUT_BYTES=N (sum over outputs of round_up(bytes, 64)) and
 * -DES_INPUT_BYTES=N (the bytes of an inputs file, io_format.h): both buffers are static,
 * so the linker map shows them. */
#include <stdint.h>

#include "../common/console.h"
#include "../common/model_run.h"
#include "../common/virtual_counter.h"
#include "edgespec/model.h"
#include "edgespec/platform.h"
#include "edgespec/profile.h"
#include "edgespec/serve.h"
#include "uart.h"

#ifndef ES_OUTPUT_BYTES
#error "define ES_OUTPUT_BYTES: the sum of the model's output sizes, each rounded up to 64 bytes"
#endif
#ifndef ES_INPUT_BYTES
#error "define ES_INPUT_BYTES: the bytes of the model's inputs file (io_format.h)"
#endif

#define INPUT_CAPACITY (((ES_INPUT_BYTES) + 63u) / 64u * 64u)

static float output_storage[(ES_OUTPUT_BYTES + 3) / 4] __attribute__((aligned(64)));
static unsigned char input_buffer[INPUT_CAPACITY] __attribute__((aligned(64)));

static int port_read_byte(void *ctx, uint32_t timeout_ms) {
  (void)ctx;
  return es_uart_read_byte(timeout_ms);
}

static void port_write(void *ctx, const void *bytes, uint32_t n) {
  (void)ctx;
  es_uart_write(bytes, n);
}

/* Nanoseconds of the generic timer: wall time on the board (under QEMU's -icount shift=0,
 * one nanosecond per guest instruction). */
static uint64_t counter_ns(void) { return es_ticks_to_instructions(es_virtual_counter()); }

__attribute__((noreturn)) static void fail(es_exit_code code, const char *what) {
  es_line line;
  es_line_start(&line);
  es_line_str(&line, "error: ");
  es_line_str(&line, what);
  es_line_end(&line);
  es_line_start(&line);
  es_line_str(&line, "status=failed exit=");
  es_line_dec(&line, code);
  es_line_end(&line);
  es_platform_exit(code);
}

#ifdef ES_TEST_CPU_FAULT
/* TEST ONLY (EDGESPEC_TEST_PLANT_FAULT=cpu-fault): a load from the GPU's memory, which
 * the MMU leaves unmapped, so that the tests see a fault reported with its symbol. */
__attribute__((noinline)) static uint32_t es_test_fault_unmapped_read(uintptr_t address) {
  return *(volatile uint32_t *)address;
}
#endif

int main(void) {
  es_uart_init();
  es_line line;
  es_print_model_line();

  const char *counts = es_model_counts_problem();
  if (counts) fail(ES_EXIT_MODEL_ERROR, counts);

#ifdef ES_TEST_CPU_FAULT
  es_line_start(&line);
  es_line_str(&line, "test fault: reading 0x3c000000");
  es_line_end(&line);
  es_line_start(&line);
  es_line_hex(&line, es_test_fault_unmapped_read(0x3c000000u));
  es_line_end(&line);
#endif

  float *outputs[ES_MAX_TENSORS];
  const char *layout = es_layout_outputs(output_storage, sizeof output_storage, outputs);
  if (layout) fail(ES_EXIT_MODEL_ERROR, layout);

  const es_frame_port port = {port_read_byte, port_write, 0};
  const es_serve_config config = {&port, input_buffer, INPUT_CAPACITY, outputs, 0, counter_ns};
  es_line_start(&line);
  es_line_str(&line, "serving on uart0 max_input_bytes=");
  es_line_dec(&line, INPUT_CAPACITY);
  es_line_end(&line);
  const int rc = es_serve(&config);
  if (es_profile_report) es_profile_report(); /* profiling builds only: the last input's steps */
  if (rc != 0) fail(ES_EXIT_MODEL_ERROR, "the serving loop ended without a STOP frame");
  es_console_write("edgespec: status=ok\n");
  es_platform_exit(ES_EXIT_OK);
}
