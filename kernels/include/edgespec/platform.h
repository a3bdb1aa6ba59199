/* What every edgespec platform (kernels/platform/<target>/) promises the runner.
 *
 * Console: each machine-readable line starts with "edgespec: " and is "key=value" pairs:
 *   edgespec: model=NAME inputs=N outputs=M
 *   edgespec: invoke_instructions=N      (qemu-virt; exact under -icount shift=0)
 *   edgespec: invoke_ns=N                (host: the fastest of the repeats)
 *   edgespec: run_instructions=N         (qemu-virt: from reset to the end of the run)
 *   edgespec: output_file=output.bin bytes=N
 *   edgespec: status=ok
 * or, on failure, "edgespec: error: MESSAGE" / "edgespec: fault: ..." and then
 *   edgespec: status=failed exit=CODE
 * The exit status is one of es_exit_code. */
#ifndef EDGESPEC_PLATFORM_H
#define EDGESPEC_PLATFORM_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
  ES_EXIT_OK = 0,
  ES_EXIT_MODEL_ERROR = 1, /* es_model_invoke failed, or the build's output storage is too small */
  ES_EXIT_BAD_INPUT = 2,   /* input missing, or its header does not match the model */
  ES_EXIT_FAULT = 3,       /* CPU exception (qemu-virt) or fatal signal (host) */
  ES_EXIT_OUTPUT = 4,      /* the output file could not be written */
} es_exit_code;

/* Symbol table for naming the function a fault happened in. The build generates it from
 * the linked image (a second link; see kernels/README.md) in section .edgespec.symbols,
 * sorted by address; a weak empty default is linked otherwise. */
typedef struct {
  uint64_t addr;
  uint32_t size;     /* bytes of code; 0 if unknown */
  uint32_t name_offset; /* into es_symbol_names */
} es_symbol;

extern const es_symbol es_symbols[];
extern const uint32_t es_symbol_count;
extern const char es_symbol_names[];

#ifdef __cplusplus
}
#endif

#endif
