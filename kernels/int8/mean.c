#include "edgespec/kernels_int8.h"

void es_mean_s8(const int8_t *in, int8_t *out, int32_t outer, int32_t reduce, int32_t inner,
                int32_t in_zp, int32_t out_zp, int32_t mult, int32_t shift) {
  for (int32_t o = 0; o < outer; o++) {
    const int8_t *x = in + (int64_t)o * reduce * inner;
    for (int32_t i = 0; i < inner; i++) {
      int32_t sum = 0;
      for (int32_t r = 0; r < reduce; r++) sum += x[(int64_t)r * inner + i];
      sum -= in_zp * reduce;
      out[(int64_t)o * inner + i] = es_clamp_to_s8(out_zp + es_requantize(sum, mult, shift), -128, 127);
    }
  }
}
