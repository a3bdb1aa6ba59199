#include "edgespec/kernels_int8.h"

/* Plain loops, kept from becoming memcpy / memset calls (picolibc's cost about 7
 * instructions per byte on bare metal). */
#pragma GCC optimize("no-tree-loop-distribute-patterns")

/* Per output pixel, the valid taps are folded into the output row with a running max over
 * channels: the channel loop is contiguous, so the compiler vectorizes it (NEON smax,
 * AVX-512 vpmaxsb). */
void es_max_pool2d_s8(const int8_t *in, es_shape4 is, int8_t *out, es_shape4 os, int32_t kh,
                      int32_t kw, int32_t stride_h, int32_t stride_w, int32_t pad_top,
                      int32_t pad_left, int32_t dilation_h, int32_t dilation_w, int32_t act_min,
                      int32_t act_max) {
  const int32_t channels = os.c;
  const int8_t lo = (int8_t)(act_min < -128 ? -128 : act_min > 127 ? 127 : act_min);
  const int8_t hi = (int8_t)(act_max < -128 ? -128 : act_max > 127 ? 127 : act_max);
  for (int32_t b = 0; b < os.n; b++) {
    for (int32_t oy = 0; oy < os.h; oy++) {
      for (int32_t ox = 0; ox < os.w; ox++) {
        int8_t *o = out + (((int64_t)b * os.h + oy) * os.w + ox) * channels;
        int32_t valid = 0;
        for (int32_t ky = 0; ky < kh; ky++) {
          const int32_t iy = oy * stride_h - pad_top + ky * dilation_h;
          if (iy < 0 || iy >= is.h) continue;
          for (int32_t kx = 0; kx < kw; kx++) {
            const int32_t ix = ox * stride_w - pad_left + kx * dilation_w;
            if (ix < 0 || ix >= is.w) continue;
            const int8_t *x = in + (((int64_t)b * is.h + iy) * is.w + ix) * is.c;
            if (valid++ == 0) {
              for (int32_t c = 0; c < channels; c++) o[c] = x[c];
            } else {
              for (int32_t c = 0; c < channels; c++) o[c] = x[c] > o[c] ? x[c] : o[c];
            }
          }
        }
        /* A window entirely in the padding has no value: like fp32's -inf, it clamps to act_min. */
        if (valid == 0) {
          for (int32_t c = 0; c < channels; c++) o[c] = lo;
          continue;
        }
        for (int32_t c = 0; c < channels; c++) o[c] = o[c] < lo ? lo : o[c] > hi ? hi : o[c];
      }
    }
  }
}
