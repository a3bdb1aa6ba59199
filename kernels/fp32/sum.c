/* es_sum_f32: sum over the middle axis of [outer][reduce][inner]. */
#include "internal.h"

void es_sum_f32(const float *in, float *out, int32_t outer, int32_t reduce, int32_t inner) {
  for (int32_t o = 0; o < outer; o++) {
    const float *x = in + (size_t)o * reduce * inner;
    float *y = out + (size_t)o * inner;
    for (int32_t i = 0; i < inner; i++) y[i] = 0.0f;
    for (int32_t r = 0; r < reduce; r++) {
      const float *row = x + (size_t)r * inner;
      for (int32_t i = 0; i < inner; i++) y[i] += row[i];
    }
  }
}
