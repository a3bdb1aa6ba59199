/* es_log_softmax_f32: log_softmax over the middle axis of [outer][axis][inner]:
 * (x - max) - log(sum exp(x - max)). In-place (out == in) works: each output is written after
 * the last read of its column. */
#include <math.h>

#include "internal.h"

void es_log_softmax_f32(const float *in, float *out, int32_t outer, int32_t axis, int32_t inner) {
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
      for (int32_t j = 0; j < axis; j++) sum += expf(ip[(size_t)j * inner] - max);
      const float log_sum = logf(sum);
      for (int32_t j = 0; j < axis; j++) op[(size_t)j * inner] = (ip[(size_t)j * inner] - max) - log_sum;
    }
}
