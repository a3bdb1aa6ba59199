/* es_resize_bilinear_f32: NHWC; the source coordinate of output index i along an axis is
 * (i + offset_in) * inv - offset_out (or / inv when divide), clamped to [0, size - 1] (which is what reading the
 * edge pixel beyond the border gives), and blends the two pixels around it on each axis. */
#include <math.h>

#include "internal.h"

typedef struct {
  int32_t i0, i1;
  float f;
} es_lerp_taps;

static es_lerp_taps taps(int32_t i, float inv, float offset_in, float offset_out, int32_t size,
                         int32_t divide) {
  float s = (divide ? ((float)i + offset_in) / inv : ((float)i + offset_in) * inv) - offset_out;
  if (s < 0.0f) s = 0.0f;
  if (s > (float)(size - 1)) s = (float)(size - 1);
  es_lerp_taps t;
  t.i0 = (int32_t)s; /* s >= 0: truncation is floor */
  t.i1 = t.i0 + 1 < size ? t.i0 + 1 : size - 1;
  t.f = s - (float)t.i0;
  return t;
}

void es_resize_bilinear_f32(const float *in, es_shape4 is, float *out, es_shape4 os, float inv_h,
                            float inv_w, float offset_in, float offset_out, int32_t divide) {
  if (os.n <= 0 || os.h <= 0 || os.w <= 0 || os.c <= 0 || is.h <= 0 || is.w <= 0 || is.c != os.c) return;
  const size_t C = (size_t)os.c;
  for (int32_t n = 0; n < os.n; n++)
    for (int32_t y = 0; y < os.h; y++) {
      const es_lerp_taps ty = taps(y, inv_h, offset_in, offset_out, is.h, divide);
      const float *r0 = in + ((size_t)n * is.h + ty.i0) * is.w * C;
      const float *r1 = in + ((size_t)n * is.h + ty.i1) * is.w * C;
      float *o = out + ((size_t)n * os.h + y) * os.w * C;
      for (int32_t x = 0; x < os.w; x++) {
        const es_lerp_taps tx = taps(x, inv_w, offset_in, offset_out, is.w, divide);
        const float *a = r0 + (size_t)tx.i0 * C, *b = r0 + (size_t)tx.i1 * C;
        const float *c = r1 + (size_t)tx.i0 * C, *d = r1 + (size_t)tx.i1 * C;
        float *oc = o + (size_t)x * C;
        for (size_t k = 0; k < C; k++) {
          const float top = a[k] + (b[k] - a[k]) * tx.f;
          const float bottom = c[k] + (d[k] - c[k]) * tx.f;
          oc[k] = top + (bottom - top) * ty.f;
        }
      }
    }
}
