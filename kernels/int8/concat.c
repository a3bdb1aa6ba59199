#include <string.h>

#include "edgespec/kernels_int8.h"

void es_concat_s8(const int8_t *const *ins, const int32_t *sizes, int32_t count, int8_t *out,
                  int32_t outer, int32_t inner, const int32_t *in_zps, const int32_t *mults,
                  const int32_t *shifts, int32_t out_zp) {
  int32_t total = 0;
  for (int32_t i = 0; i < count; i++) total += sizes[i];
  for (int32_t o = 0; o < outer; o++) {
    int8_t *y = out + (int64_t)o * total * inner;
    for (int32_t i = 0; i < count; i++) {
      const int32_t span = sizes[i] * inner;
      const int8_t *x = ins[i] + (int64_t)o * span;
      if (mults[i] == 0) {
        memcpy(y, x, (size_t)span);
      } else {
        for (int32_t j = 0; j < span; j++) {
          y[j] = es_clamp_to_s8(out_zp + es_requantize((int32_t)x[j] - in_zps[i], mults[i], shifts[i]), -128, 127);
        }
      }
      y += span;
    }
  }
}
