/* es_resize_bilinear_s8: TFLite's int8 RESIZE_BILINEAR arithmetic. Along each axis the source
 * position of output index i is s = i * scale_10 (+ scale_10 / 2 - 512 with half-pixel centres)
 * in 1/1024 units; the lower tap is max(s / 1024, 0), the upper min(ceil(s / 1024), size - 1),
 * and the four codes are weighted by their 10-bit distances (products in 1/2^20), rounded half
 * away from zero. Input and output share one quantization. */
#include <stddef.h>

#include "edgespec/kernels_int8.h"

typedef struct {
  int32_t s, lo, hi;
} es_taps_10;

static es_taps_10 taps_10(int32_t i, int32_t scale_10, int32_t half_pixel, int32_t size) {
  es_taps_10 t;
  t.s = half_pixel ? i * scale_10 + scale_10 / 2 - (1 << 9) : i * scale_10;
  t.lo = t.s / (1 << 10) > 0 ? t.s / (1 << 10) : 0; /* C division truncates, as TFLite's */
  const int32_t up = (t.s + (1 << 10) - 1) / (1 << 10);
  t.hi = up < size - 1 ? up : size - 1;
  return t;
}

void es_resize_bilinear_s8(const int8_t *in, es_shape4 is, int8_t *out, es_shape4 os, int32_t scale_h_10,
                           int32_t scale_w_10, int32_t half_pixel) {
  if (os.n <= 0 || os.h <= 0 || os.w <= 0 || os.c <= 0 || is.h <= 0 || is.w <= 0 || is.c != os.c) return;
  const size_t C = (size_t)os.c;
  for (int32_t n = 0; n < os.n; n++)
    for (int32_t y = 0; y < os.h; y++) {
      const es_taps_10 ty = taps_10(y, scale_h_10, half_pixel, is.h);
      const int64_t wy1 = ty.s - (1 << 10) * ty.lo, wy0 = (1 << 10) - wy1;
      const int8_t *r0 = in + ((size_t)n * is.h + ty.lo) * is.w * C;
      const int8_t *r1 = in + ((size_t)n * is.h + ty.hi) * is.w * C;
      int8_t *o = out + ((size_t)n * os.h + y) * os.w * C;
      for (int32_t x = 0; x < os.w; x++) {
        const es_taps_10 tx = taps_10(x, scale_w_10, half_pixel, is.w);
        const int64_t wx1 = tx.s - (1 << 10) * tx.lo, wx0 = (1 << 10) - wx1;
        const int8_t *a = r0 + (size_t)tx.lo * C, *b = r0 + (size_t)tx.hi * C;
        const int8_t *c = r1 + (size_t)tx.lo * C, *d = r1 + (size_t)tx.hi * C;
        int8_t *oc = o + (size_t)x * C;
        for (size_t k = 0; k < C; k++) {
          const int64_t sum = a[k] * wy0 * wx0 + c[k] * wy1 * wx0 + b[k] * wy0 * wx1 + d[k] * wy1 * wx1;
          const int64_t round = sum > 0 ? (1 << 19) : -(1 << 19);
          oc[k] = (int8_t)((sum + round) / (1 << 20));
        }
      }
    }
}
