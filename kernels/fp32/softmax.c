/* es_softmax_f32: softmax over the middle axis of [outer][axis][inner], max-subtracted.
 * In-place (out == in) works: each element is read before its output is written. */
#include <math.h>

#include "internal.h"

void es_softmax_f32(const float *in, float *out, int32_t outer, int32_t axis, int32_t inner) {
  if (outer <= 0 || axis <= 0 || inner <= 0) return;
  for (int32_t o = 0; o < outer; o++)
    for (int32_t i = 0; i < inner; i++) {
      const float *ip = in + (size_t)o * axis * inner + i;
      float *op = out + (size_t)o * axis * inner + i;
      float max = ip[0];
      for (int32_t j = 1; j < axis; j++) {
        const float v = ip[(size_t)j * inner];
        max = (v > max || v != v) ? v : max;
      }
      float sum = 0.0f;
      for (int32_t j = 0; j < axis; j++) {
        const float e = expf(ip[(size_t)j * inner] - max);
        op[(size_t)j * inner] = e;
        sum += e;
      }
      const float scale = 1.0f / sum;
      for (int32_t j = 0; j < axis; j++) op[(size_t)j * inner] *= scale;
    }
}
