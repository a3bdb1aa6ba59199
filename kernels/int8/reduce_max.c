/* es_reduce_max_s8: TFLite's int8 REDUCE_MAX: the codes compared as they are (input and output share
 * one scale and zero point), over the middle axis of [outer][reduce][inner]. */
#include "edgespec/kernels_int8.h"

void es_reduce_max_s8(const int8_t *in, int8_t *out, int32_t outer, int32_t reduce, int32_t inner) {
  for (int32_t o = 0; o < outer; o++) {
    const int8_t *x = in + (int64_t)o * reduce * inner;
    int8_t *y = out + (int64_t)o * inner;
    for (int32_t i = 0; i < inner; i++) y[i] = x[i];
    for (int32_t r = 1; r < reduce; r++) {
      const int8_t *row = x + (int64_t)r * inner;
      for (int32_t i = 0; i < inner; i++) if (row[i] > y[i]) y[i] = row[i];
    }
  }
}
