/* What the bare-metal runners (qemu-virt, rpi3, efi) do alike around the model: the
 * "model=..." line, the check of its tensor counts, the output buffers laid out in the
 * platform's static storage, and the counter lines of a finished run. Each platform keeps
 * its own input, output file and exit (console.h's es_platform_exit). */
#ifndef EDGESPEC_PLATFORM_MODEL_RUN_H
#define EDGESPEC_PLATFORM_MODEL_RUN_H

#include <stdint.h>

/* "edgespec: model=NAME inputs=N outputs=M" */
void es_print_model_line(void);

/* Why the model cannot run on any platform (an input or output count outside 1..16), or 0. */
const char *es_model_counts_problem(void);

/* Points outputs[i] into storage, each output rounded up to 64 bytes (io_format.h), as the
 * build's ES_OUTPUT_BYTES counts them; returns why they do not fit in storage_bytes, or 0. */
const char *es_layout_outputs(float *storage, uint64_t storage_bytes, float **outputs);

/* "edgespec: NAME=VALUE", e.g. invoke_instructions=N */
void es_print_count_line(const char *name, uint64_t value);

/* "edgespec: output_file=FILE bytes=N" */
void es_print_output_file_line(const char *file, uint64_t bytes);

#endif
