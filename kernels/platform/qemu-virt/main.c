/* qemu-virt model runner: reads the inputs QEMU's loader placed at __es_input_base, runs
 * the model once, counts guest instructions, writes output.bin through semihosting and
 * ends QEMU with the run's status (edgespec/platform.h). Started with `-append serve`
 * (or serve=semihost), it serves frames instead (serve_uart.h).
 *
 * Build with -DES_OUTPUT_BYTES=N, N = sum over outputs of round_up(bytes, 64): the output
 * buffers are static so the linker map shows them. */
#include <stdint.h>

#include "../common/console.h"
#include "../common/input_fault.h"
#include "../common/model_run.h"
#include "edgespec/debug_tensors.h"
#include "edgespec/io_format.h"
#include "edgespec/model.h"
#include "edgespec/platform.h"
#include "edgespec/profile.h"
#include "semihost.h"
#include "serve_uart.h"
#include "../common/virtual_counter.h"

#ifndef ES_OUTPUT_BYTES
#error "define ES_OUTPUT_BYTES: the sum of the model's output sizes, each rounded up to 64 bytes"
#endif

#define ES_OUTPUT_FILE "output.bin"
#define ES_OUTPUT_PARTIAL_FILE "output.bin.partial"

extern const unsigned char __es_input_base[];

static float output_storage[(ES_OUTPUT_BYTES + 3) / 4] __attribute__((aligned(64)));


__attribute__((noreturn)) static void fail_status(es_exit_code code) {
  es_line line;
  es_line_start(&line);
  es_line_str(&line, "status=failed exit=");
  es_line_dec(&line, code);
  es_line_end(&line);
  es_semihost_exit(code);
}

__attribute__((noreturn)) static void fail(es_exit_code code, const char *what) {
  es_line line;
  es_line_start(&line);
  es_line_str(&line, "error: ");
  es_line_str(&line, what);
  es_line_end(&line);
  fail_status(code);
}

static void write_outputs(float *const *outputs, uint64_t *written) {
  es_io_header header;
  const uint64_t file_size =
      es_io_make_header(&header, ES_IO_KIND_OUTPUTS, (uint32_t)es_model.n_outputs, es_model.output_bytes);
  static const unsigned char zeros[ES_IO_ALIGN];
  const int64_t handle = es_semihost_open_write(ES_OUTPUT_PARTIAL_FILE);
  if (handle < 0) fail(ES_EXIT_OUTPUT, "cannot create " ES_OUTPUT_PARTIAL_FILE " in QEMU's working directory");
  const uint64_t header_bytes = 24u + 4u * (uint64_t)es_model.n_outputs;
  int bad = es_semihost_write(handle, &header, header_bytes);
  bad |= es_semihost_write(handle, zeros, es_io_data_offset((uint32_t)es_model.n_outputs) - header_bytes);
  for (int32_t i = 0; i < es_model.n_outputs; i++) {
    const uint64_t bytes = es_model.output_bytes[i];
    bad |= es_semihost_write(handle, outputs[i], bytes);
    if (es_io_round_up(bytes) != bytes) bad |= es_semihost_write(handle, zeros, es_io_round_up(bytes) - bytes);
  }
  bad |= es_semihost_close(handle);
  if (bad) fail(ES_EXIT_OUTPUT, "writing " ES_OUTPUT_PARTIAL_FILE " failed");
  if (es_semihost_rename(ES_OUTPUT_PARTIAL_FILE, ES_OUTPUT_FILE) != 0)
    fail(ES_EXIT_OUTPUT, "cannot rename " ES_OUTPUT_PARTIAL_FILE " to " ES_OUTPUT_FILE);
  *written = file_size;
}

/* An index the model was given lies outside the axis it selects along (edgespec/model.h). */
__attribute__((noreturn)) static void bad_index(const es_input_fault *f) {
  char text[200];
  es_input_fault_text(f, text, sizeof text, 0);
  fail(ES_EXIT_BAD_INPUT, text);
}

int main(void) {
  es_line line;
  es_print_model_line();

  /* A run that fails must not leave an earlier run's output behind. */
  es_semihost_remove(ES_OUTPUT_FILE);

  const char *counts = es_model_counts_problem();
  if (counts) fail(ES_EXIT_MODEL_ERROR, counts);

  float *outputs[ES_MAX_TENSORS];
  const char *layout = es_layout_outputs(output_storage, sizeof output_storage, outputs);
  if (layout) fail(ES_EXIT_MODEL_ERROR, layout);

  const es_serve_port_kind serve_port = es_serve_requested();
  if (serve_port != ES_SERVE_NONE) es_serve_until_stop(serve_port, outputs); /* -append serve... */

  const void *inputs[ES_MAX_TENSORS];
  char message[200];
  const char *problem = es_io_parse(__es_input_base, UINT64_MAX, ES_IO_KIND_INPUTS,
                                    (uint32_t)es_model.n_inputs, es_model.input_bytes, inputs,
                                    message, sizeof message);
  if (problem) {
    es_line_start(&line);
    es_line_str(&line, "error: input at ");
    es_line_hex(&line, (uint64_t)(uintptr_t)__es_input_base);
    es_line_str(&line, " (QEMU: -device loader,file=input.bin,addr=ADDRESS,force-raw=on): ");
    es_line_str(&line, problem);
    es_line_end(&line);
    fail_status(ES_EXIT_BAD_INPUT);
  }

  const uint64_t start = es_virtual_counter();
  const int rc = es_model_invoke((const float *const *)inputs, outputs);
  const uint64_t end = es_virtual_counter();
  if (rc == ES_MODEL_BAD_INPUT && &es_model_input_fault != 0) bad_index(&es_model_input_fault);
  if (rc != 0) fail(ES_EXIT_MODEL_ERROR, "es_model_invoke failed");
  if (es_debug_tensors_finish && es_debug_tensors_finish() != 0) /* debug builds only */
    fail(ES_EXIT_OUTPUT, "cannot write " ES_DEBUG_FILE " in QEMU's working directory");

  es_print_count_line("invoke_instructions", es_ticks_to_instructions(end - start));
  if (es_profile_report) es_profile_report(); /* profiling builds only */

  uint64_t written = 0;
  write_outputs(outputs, &written);
  es_print_output_file_line(ES_OUTPUT_FILE, written);
  es_print_count_line("run_instructions", es_ticks_to_instructions(es_virtual_counter()));
  es_semihost_write0("edgespec: status=ok\n");
  es_semihost_exit(ES_EXIT_OK);
}
