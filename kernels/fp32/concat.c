/* es_concat_f32: joins inputs along the middle axis of [outer][axis_i][inner]. */
#include <string.h>

#include "internal.h"

void es_concat_f32(const float *const *inputs, const int32_t *axis_sizes, int32_t n_inputs,
                   float *out, int32_t outer, int32_t inner) {
  if (outer <= 0 || inner <= 0) return;
  size_t out_axis = 0;
  for (int32_t i = 0; i < n_inputs; i++) out_axis += (size_t)axis_sizes[i];
  for (int32_t o = 0; o < outer; o++) {
    float *dst = out + (size_t)o * out_axis * inner;
    for (int32_t i = 0; i < n_inputs; i++) {
      const size_t run = (size_t)axis_sizes[i] * inner;
      memcpy(dst, inputs[i] + (size_t)o * run, run * sizeof(float));
      dst += run;
    }
  }
}
