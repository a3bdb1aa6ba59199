/* es_split_f32: outputs[i] gets axis_sizes[i] consecutive slices of the middle axis of
 * [outer][axis][inner]; the inverse of concat. */
#include <string.h>

#include "internal.h"

void es_split_f32(const float *in, float *const *outputs, const int32_t *axis_sizes,
                  int32_t n_outputs, int32_t outer, int32_t inner) {
  if (outer <= 0 || inner <= 0) return;
  size_t in_axis = 0;
  for (int32_t i = 0; i < n_outputs; i++) in_axis += (size_t)axis_sizes[i];
  for (int32_t o = 0; o < outer; o++) {
    const float *src = in + (size_t)o * in_axis * inner;
    for (int32_t i = 0; i < n_outputs; i++) {
      const size_t run = (size_t)axis_sizes[i] * inner;
      memcpy(outputs[i] + (size_t)o * run, src, run * sizeof(float));
      src += run;
    }
  }
}
