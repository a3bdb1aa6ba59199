#include "edgespec/kernels_int8.h"

enum { CHUNK = 64 }; /* channels summed together */

static inline int32_t divide_round_half_away(int32_t sum, int32_t divisor) {
  return sum >= 0 ? (sum + divisor / 2) / divisor : -((-sum + divisor / 2) / divisor);
}

void es_avg_pool2d_s8(const int8_t *in, es_shape4 is, int8_t *out, es_shape4 os, int32_t kh,
                      int32_t kw, int32_t stride_h, int32_t stride_w, int32_t pad_top,
                      int32_t pad_left, int32_t pad_bottom, int32_t pad_right,
                      int32_t count_include_pad, int32_t divisor_override, int32_t zp,
                      int32_t act_min, int32_t act_max) {
  for (int32_t b = 0; b < os.n; b++) {
    for (int32_t oy = 0; oy < os.h; oy++) {
      for (int32_t ox = 0; ox < os.w; ox++) {
        const int32_t y0 = oy * stride_h - pad_top;
        const int32_t x0 = ox * stride_w - pad_left;
        /* The window clipped to input + padding (count_include_pad) and to the input. */
        const int32_t py1 = y0 + kh < is.h + pad_bottom ? y0 + kh : is.h + pad_bottom;
        const int32_t px1 = x0 + kw < is.w + pad_right ? x0 + kw : is.w + pad_right;
        const int32_t vy0 = y0 < 0 ? 0 : y0, vx0 = x0 < 0 ? 0 : x0;
        const int32_t vy1 = py1 < is.h ? py1 : is.h, vx1 = px1 < is.w ? px1 : is.w;
        int32_t divisor = divisor_override ? divisor_override
                          : count_include_pad ? (py1 - y0) * (px1 - x0)
                                              : (vy1 - vy0) * (vx1 - vx0);
        if (divisor <= 0) divisor = 1;
        int8_t *o = out + (((int64_t)b * os.h + oy) * os.w + ox) * os.c;
        /* Channels CHUNK at a time, the window's pixels outer: contiguous loads that gcc
         * vectorizes, rather than one strided walk over the window per channel. */
        for (int32_t c0 = 0; c0 < os.c; c0 += CHUNK) {
          const int32_t n = os.c - c0 < CHUNK ? os.c - c0 : CHUNK;
          int32_t sum[CHUNK] = {0};
          for (int32_t iy = vy0; iy < vy1; iy++) {
            for (int32_t ix = vx0; ix < vx1; ix++) {
              const int8_t *p = in + (((int64_t)b * is.h + iy) * is.w + ix) * is.c + c0;
              for (int32_t c = 0; c < n; c++) sum[c] += p[c];
            }
          }
          const int32_t zp_sum = zp * (vy1 - vy0) * (vx1 - vx0);
          for (int32_t c = 0; c < n; c++)
            o[c0 + c] = es_clamp_to_s8(zp + divide_round_half_away(sum[c] - zp_sum, divisor), act_min, act_max);
        }
      }
    }
  }
}
