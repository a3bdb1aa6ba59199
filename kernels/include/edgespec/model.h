/* edgespec model contract: what the generated model code (model.c, from src/toolchain/build)
 * provides to a platform (kernels/platform/<target>/main.c).
 *
 * - Inputs and outputs are dense tensors in the layout and dtype graph.json gives them (fp32,
 *   or int32 / int64 for indices and argmax results).
 * - The platform owns the input bytes (for qemu-virt: where QEMU's loader put them) and the
 *   output buffers (each 64-byte aligned); the model owns its arena and weights.
 * - es_model_invoke may be called more than once (the host platform repeats it for timing);
 *   it returns 0 on success. A stateless model gives the same outputs each time. A model with
 *   state (graph.state: a streaming model's variables) carries it from one call to the next,
 *   and defines es_model_reset, which puts the state back to its value before the first call:
 *   a platform that repeats one input calls it before each repeat. */
#ifndef EDGESPEC_MODEL_H
#define EDGESPEC_MODEL_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Most inputs or outputs a model may have (the I/O file header holds this many sizes). */
#define ES_MAX_TENSORS 16

typedef struct {
  const char *name;              /* the bundle's model name, printed by the platform */
  int32_t n_inputs;              /* 1 .. ES_MAX_TENSORS */
  int32_t n_outputs;             /* 1 .. ES_MAX_TENSORS */
  const uint32_t *input_bytes;   /* [n_inputs]: byte size of each input */
  const uint32_t *output_bytes;  /* [n_outputs]: byte size of each output */
} es_model_info;

extern const es_model_info es_model;

int es_model_invoke(const float *const *inputs, float *const *outputs);

/* Defined only by models with state (weak: NULL otherwise). */
void es_model_reset(void) __attribute__((weak));

/* es_model_invoke's result when an input holds a value the model cannot use: an index outside
 * the axis it selects along. The kernels that check indices (es_take_f32, es_take_s8) define
 * es_model_input_fault and fill it; the platform prints it and exits as for bad input (it
 * declares the fault weak: a model without such kernels has none). */
#define ES_MODEL_BAD_INPUT 2

typedef struct {
  const char *tensor; /* the index tensor: the model input it comes from */
  int32_t position;   /* which element of it (row-major) */
  int64_t index;      /* its value */
  int64_t low, bound; /* the valid range [low, bound) */
} es_input_fault;

extern es_input_fault es_model_input_fault __attribute__((weak));

#ifdef __cplusplus
}
#endif

#endif
