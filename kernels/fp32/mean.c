/* es_mean_f32: mean over the middle axis of [outer][reduce][inner].
 * Sums blocks of BLOCK rows first and then the block sums, so the rounding error grows with
 * BLOCK + reduce / BLOCK rather than with reduce (a 112x112 global pool sums 12544 rows). */
#include "internal.h"

enum { BLOCK = 64, CHUNK = 64 };

void es_mean_f32(const float *in, float *out, int32_t outer, int32_t reduce, int32_t inner) {
  if (outer <= 0 || inner <= 0) return;
  const float scale = reduce > 0 ? 1.0f / (float)reduce : 0.0f;
  for (int32_t o = 0; o < outer; o++) {
    const float *base = in + (size_t)o * reduce * inner;
    for (int32_t c0 = 0; c0 < inner; c0 += CHUNK) {
      const int32_t nc = ES_MIN(CHUNK, inner - c0);
      float total[CHUNK], partial[CHUNK];
      for (int32_t c = 0; c < nc; c++) total[c] = 0.0f;
      for (int32_t r0 = 0; r0 < reduce; r0 += BLOCK) {
        const int32_t r1 = ES_MIN(reduce, r0 + BLOCK);
        for (int32_t c = 0; c < nc; c++) partial[c] = 0.0f;
        for (int32_t r = r0; r < r1; r++) {
          const float *row = base + (size_t)r * inner + c0;
          for (int32_t c = 0; c < nc; c++) partial[c] += row[c];
        }
        for (int32_t c = 0; c < nc; c++) total[c] += partial[c];
      }
      for (int32_t c = 0; c < nc; c++) out[(size_t)o * inner + c0 + c] = total[c] * scale;
    }
  }
}
