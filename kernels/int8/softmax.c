/* es_softmax_s8: TFLite's int8 SOFTMAX as its optimized kernel computes it on x86 (the float
 * table of PopulateSoftmaxLookupTable): per column of [outer][axis][inner], with m the largest
 * code, e_k = table[255 - m + q_k] (table[255 - d] = expf(-in_scale * d), made at build time),
 * out_k = clamp(roundf(e_k * (1 / (sum_k e_k * out_scale))) + out_zp). The sum runs in order,
 * in float, as TFLite's loop. */
#include <math.h>
#include <stddef.h>

#include "edgespec/kernels_int8.h"

void es_softmax_s8(const int8_t *in, int8_t *out, int32_t outer, int32_t axis, int32_t inner, const float *table,
                   float out_scale, int32_t out_zp) {
  for (int32_t o = 0; o < outer; o++)
    for (int32_t i = 0; i < inner; i++) {
      const int8_t *x = in + (size_t)o * axis * inner + i;
      int8_t *y = out + (size_t)o * axis * inner + i;
      int32_t m = -128;
      for (int32_t k = 0; k < axis; k++) m = x[(size_t)k * inner] > m ? x[(size_t)k * inner] : m;
      const float *row = table + 255 - m;
      float sum = 0.0f;
      for (int32_t k = 0; k < axis; k++) sum += row[x[(size_t)k * inner]];
      const float inv = 1.0f / (sum * out_scale);
      for (int32_t k = 0; k < axis; k++) {
        const int32_t q = (int32_t)roundf(row[x[(size_t)k * inner]] * inv) + out_zp;
        y[(size_t)k * inner] = es_clamp_to_s8(q, -128, 127);
      }
    }
}
