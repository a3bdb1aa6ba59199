/* es_argmin_s8: es_argmin_f32 on int8 codes: the index (as a float, like es_argmin_f32's) of the
 * smallest code along the middle axis of [outer][reduce][inner], the first of equal ones or the
 * last when `last` is set. Codes order as their real values do (the scale is positive), so this
 * is TFLite's int8 ARG_MIN without dequantizing. */
#include <stddef.h>

#include "edgespec/kernels_int8.h"

void es_argmin_s8(const int8_t *in, float *out, int32_t outer, int32_t reduce, int32_t inner, int32_t last) {
  for (int32_t o = 0; o < outer; o++) {
    const int8_t *x = in + (size_t)o * (size_t)reduce * (size_t)inner;
    for (int32_t i = 0; i < inner; i++) {
      int32_t best = 0;
      int8_t v = x[i];
      for (int32_t r = 1; r < reduce; r++) {
        const int8_t c = x[(size_t)r * (size_t)inner + i];
        if (c < v || (last && c == v)) {
          v = c;
          best = r;
        }
      }
      out[(size_t)o * (size_t)inner + i] = (float)best;
    }
  }
}
