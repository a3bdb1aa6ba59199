#include "model_run.h"

#include "console.h"
#include "edgespec/io_format.h"
#include "edgespec/model.h"

void es_print_model_line(void) {
  es_line line;
  es_line_start(&line);
  es_line_str(&line, "model=");
  es_line_str(&line, es_model.name);
  es_line_str(&line, " inputs=");
  es_line_dec(&line, (uint64_t)es_model.n_inputs);
  es_line_str(&line, " outputs=");
  es_line_dec(&line, (uint64_t)es_model.n_outputs);
  es_line_end(&line);
}

const char *es_model_counts_problem(void) {
  if (es_model.n_inputs < 1 || es_model.n_inputs > ES_MAX_TENSORS || es_model.n_outputs < 1 ||
      es_model.n_outputs > ES_MAX_TENSORS)
    return "the model's input or output count is outside 1..16";
  return 0;
}

const char *es_layout_outputs(float *storage, uint64_t storage_bytes, float **outputs) {
  uint64_t offset = 0;
  for (int32_t i = 0; i < es_model.n_outputs; i++) {
    outputs[i] = storage + offset / 4;
    offset += es_io_round_up(es_model.output_bytes[i]);
  }
  return offset > storage_bytes ? "ES_OUTPUT_BYTES is smaller than the model's outputs; rebuild" : 0;
}

void es_print_count_line(const char *name, uint64_t value) {
  es_line line;
  es_line_start(&line);
  es_line_str(&line, name);
  es_line_str(&line, "=");
  es_line_dec(&line, value);
  es_line_end(&line);
}

void es_print_output_file_line(const char *file, uint64_t bytes) {
  es_line line;
  es_line_start(&line);
  es_line_str(&line, "output_file=");
  es_line_str(&line, file);
  es_line_str(&line, " bytes=");
  es_line_dec(&line, bytes);
  es_line_end(&line);
}
