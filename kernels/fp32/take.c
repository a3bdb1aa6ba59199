/* es_take_f32: out[o][k][i] = in[o][indices[k]][i] for [outer][axis][inner] memory, the count
 * indices read at run time (int32 or int64). Every index is checked before anything is
 * written: one outside the axis fills *fault and returns 1 (the model ends with bad input). */
#include <string.h>

#include "edgespec/take_indices.h"
#include "internal.h"

/* The fault the model reports (edgespec/model.h); weak, as the fp32 and int8 kernels both hold it. */
__attribute__((weak)) es_input_fault es_model_input_fault;

int es_take_f32(const float *in, float *out, int32_t outer, int32_t axis, int32_t inner,
                const void *indices, int32_t index_bytes, int32_t count, int32_t allow_negative,
                es_input_fault *fault, const char *tensor) {
  if (es_take_check(indices, index_bytes, count, axis, allow_negative, fault, tensor) != 0) return 1;
  for (int32_t k = 0; k < count; k++) {
    int64_t index = es_take_index(indices, index_bytes, k);
    if (index < 0) index += axis;
    for (int32_t o = 0; o < outer; o++)
      memcpy(out + ((size_t)o * count + k) * inner, in + ((size_t)o * axis + (size_t)index) * inner,
             (size_t)inner * sizeof(float));
  }
  return 0;
}
