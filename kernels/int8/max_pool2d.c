#include "edgespec/kernels_int8.h"

void es_max_pool2d_s8(const int8_t *in, es_shape4 is, int8_t *out, es_shape4 os, int32_t kh,
                      int32_t kw, int32_t stride_h, int32_t stride_w, int32_t pad_top,
                      int32_t pad_left, int32_t dilation_h, int32_t dilation_w, int32_t act_min,
                      int32_t act_max) {
  for (int32_t b = 0; b < os.n; b++) {
    for (int32_t oy = 0; oy < os.h; oy++) {
      for (int32_t ox = 0; ox < os.w; ox++) {
        int8_t *o = out + (((int64_t)b * os.h + oy) * os.w + ox) * os.c;
        for (int32_t c = 0; c < os.c; c++) {
          int32_t best = -129;
          for (int32_t ky = 0; ky < kh; ky++) {
            const int32_t iy = oy * stride_h - pad_top + ky * dilation_h;
            if (iy < 0 || iy >= is.h) continue;
            for (int32_t kx = 0; kx < kw; kx++) {
              const int32_t ix = ox * stride_w - pad_left + kx * dilation_w;
              if (ix < 0 || ix >= is.w) continue;
              const int32_t v = in[(((int64_t)b * is.h + iy) * is.w + ix) * is.c + c];
              if (v > best) best = v;
            }
          }
          /* A window entirely in the padding has no value: like fp32's -inf, clamp it. */
          o[c] = es_clamp_to_s8(best, act_min, act_max);
        }
      }
    }
  }
}
