/* es_reduce_max_f32: the largest element over the middle axis of [outer][reduce][inner]; NaN wins. */
#include "internal.h"

void es_reduce_max_f32(const float *in, float *out, int32_t outer, int32_t reduce, int32_t inner) {
  for (int32_t o = 0; o < outer; o++) {
    const float *x = in + (size_t)o * reduce * inner;
    float *y = out + (size_t)o * inner;
    for (int32_t i = 0; i < inner; i++) y[i] = x[i];
    for (int32_t r = 1; r < reduce; r++) {
      const float *row = x + (size_t)r * inner;
      for (int32_t i = 0; i < inner; i++) {
        if (y[i] == y[i] && (row[i] > y[i] || row[i] != row[i])) y[i] = row[i];
      }
    }
  }
}
