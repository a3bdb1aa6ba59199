#include <string.h>

#include "edgespec/kernels_int8.h"

/* An input whose scale or zero point differs from the output's is requantized. Its codes
 * have 256 values, so when it has more elements than that they go through a table of the
 * 256 results, made once per call: one requantization per element took 59 us of each of
 * ShuffleNetV2's 28x28x48 concats on the host (3 ns per element). */
enum { TABLE_MIN_ELEMENTS = 512 };

static int8_t requantize_code(int32_t x, int32_t in_zp, int32_t mult, int32_t shift, int32_t out_zp) {
  return es_clamp_to_s8(out_zp + es_requantize(x - in_zp, mult, shift), -128, 127);
}

void es_concat_s8(const int8_t *const *ins, const int32_t *sizes, int32_t count, int8_t *out,
                  int32_t outer, int32_t inner, const int32_t *in_zps, const int32_t *mults,
                  const int32_t *shifts, int32_t out_zp) {
  int32_t total = 0;
  for (int32_t i = 0; i < count; i++) total += sizes[i];
  for (int32_t i = 0, offset = 0; i < count; offset += sizes[i] * inner, i++) {
    const int32_t span = sizes[i] * inner;
    int8_t table[256];
    const int use_table = mults[i] != 0 && (int64_t)outer * span >= TABLE_MIN_ELEMENTS;
    if (use_table)
      for (int32_t v = -128; v < 128; v++) table[v + 128] = requantize_code(v, in_zps[i], mults[i], shifts[i], out_zp);
    for (int32_t o = 0; o < outer; o++) {
      int8_t *y = out + (int64_t)o * total * inner + offset;
      const int8_t *x = ins[i] + (int64_t)o * span;
      if (mults[i] == 0) {
        memcpy(y, x, (size_t)span);
      } else if (use_table) {
        for (int32_t j = 0; j < span; j++) y[j] = table[(int32_t)x[j] + 128];
      } else {
        for (int32_t j = 0; j < span; j++) y[j] = requantize_code(x[j], in_zps[i], mults[i], shifts[i], out_zp);
      }
    }
  }
}
