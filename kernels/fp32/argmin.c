/* es_argmin_f32: the index (as a float) of the smallest element along the middle axis of
 * [outer][reduce][inner]: the first of equal ones, or the last when `last` is set. */
#include "internal.h"

void es_argmin_f32(const float *in, float *out, int32_t outer, int32_t reduce, int32_t inner, int32_t last) {
  for (int32_t o = 0; o < outer; o++) {
    const float *x = in + (size_t)o * reduce * inner;
    for (int32_t i = 0; i < inner; i++) {
      int32_t best = 0;
      float v = x[i];
      for (int32_t r = 1; r < reduce; r++) {
        const float c = x[(size_t)r * inner + i];
        if (c < v || (last && c == v)) {
          v = c;
          best = r;
        }
      }
      out[(size_t)o * inner + i] = (float)best;
    }
  }
}
