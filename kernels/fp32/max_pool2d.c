/* es_max_pool2d_f32: NHWC; padding cells are -inf, so windows are clipped to the input.
 * NaN propagates as in PyTorch. */
#include <math.h>

#include "internal.h"

void es_max_pool2d_f32(const float *in, es_shape4 is, float *out, es_shape4 os, int32_t kh,
                       int32_t kw, int32_t stride_h, int32_t stride_w, int32_t pad_top,
                       int32_t pad_left, int32_t pad_bottom, int32_t pad_right,
                       int32_t dilation_h, int32_t dilation_w, float act_min, float act_max) {
  (void)pad_bottom; /* windows are clipped to the input; the far padding adds only -inf */
  (void)pad_right;
  if (os.n <= 0 || os.h <= 0 || os.w <= 0 || os.c <= 0 || stride_h <= 0 || stride_w <= 0 ||
      dilation_h <= 0 || dilation_w <= 0 || is.c != os.c)
    return;
  const int32_t C = os.c;
  for (int32_t n = 0; n < os.n; n++) {
    const float *in_n = in + (size_t)n * is.h * is.w * C;
    for (int32_t y = 0; y < os.h; y++)
      for (int32_t x = 0; x < os.w; x++) {
        float *o = out + (((size_t)n * os.h + y) * os.w + x) * C;
        for (int32_t c = 0; c < C; c++) o[c] = -INFINITY;
        for (int32_t ky = 0; ky < kh; ky++) {
          const int32_t iy = y * stride_h - pad_top + ky * dilation_h;
          if (iy < 0 || iy >= is.h) continue;
          for (int32_t kx = 0; kx < kw; kx++) {
            const int32_t ix = x * stride_w - pad_left + kx * dilation_w;
            if (ix < 0 || ix >= is.w) continue;
            const float *ip = in_n + ((size_t)iy * is.w + ix) * C;
            for (int32_t c = 0; c < C; c++) {
              const float v = ip[c];
              o[c] = (v > o[c] || v != v) ? v : o[c];
            }
          }
        }
        es_clamp_span(o, o, (size_t)C, act_min, act_max);
      }
  }
}
