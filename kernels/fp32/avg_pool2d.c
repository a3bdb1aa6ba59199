/* es_avg_pool2d_f32: NHWC. The divisor follows PyTorch: divisor_override when > 0; else
 * with count_include_pad the window clipped to the padded input (never past the far
 * padding, which ceil_mode windows can reach); else the cells inside the input.
 *
 * Each vector of channels sums its window in a register and is scaled, clamped and stored
 * once (the same additions in the same order as summing into the output). GCC's
 * auto-vectorized loops over the output row took 2.7 KB of code, a twenty-fifth of a
 * small model's image beside its weights. */
#include "internal.h"

/* The window [y0, y1) x [x0, x1) of channels [c, c + lanes) summed, times scale. */
#if ES_NEON
ES_INLINE float32x4_t window_sum4(const float *in, int32_t iw, int32_t C, int32_t y0, int32_t y1,
                                  int32_t x0, int32_t x1, int32_t c) {
  float32x4_t acc = vdupq_n_f32(0.0f);
  for (int32_t iy = y0; iy < y1; iy++)
    for (int32_t ix = x0; ix < x1; ix++) acc = vaddq_f32(acc, vld1q_f32(in + ((size_t)iy * iw + ix) * C + c));
  return acc;
}
#else
ES_INLINE es_v8 window_sum8(const float *in, int32_t iw, int32_t C, int32_t y0, int32_t y1,
                            int32_t x0, int32_t x1, int32_t c) {
  es_v8 acc = es_v8_splat(0.0f);
  for (int32_t iy = y0; iy < y1; iy++)
    for (int32_t ix = x0; ix < x1; ix++) acc += es_v8_load(in + ((size_t)iy * iw + ix) * C + c);
  return acc;
}
#endif

void es_avg_pool2d_f32(const float *in, es_shape4 is, float *out, es_shape4 os, int32_t kh,
                       int32_t kw, int32_t stride_h, int32_t stride_w, int32_t pad_top,
                       int32_t pad_left, int32_t pad_bottom, int32_t pad_right,
                       int32_t count_include_pad, int32_t divisor_override, float act_min,
                       float act_max) {
  if (os.n <= 0 || os.h <= 0 || os.w <= 0 || os.c <= 0 || stride_h <= 0 || stride_w <= 0 || is.c != os.c)
    return;
  const int32_t C = os.c;
  const es_bounds bounds = es_bounds_make(act_min, act_max);
#if ES_NEON
  const es_bounds4 bounds4 = es_bounds4_make(act_min, act_max);
#endif
  for (int32_t n = 0; n < os.n; n++) {
    const float *in_n = in + (size_t)n * is.h * is.w * C;
    for (int32_t y = 0; y < os.h; y++) {
      int32_t y0 = y * stride_h - pad_top, y1 = ES_MIN(y0 + kh, is.h + pad_bottom);
      const int32_t padded_h = y1 - y0;
      y0 = ES_MAX(y0, 0);
      y1 = ES_MIN(y1, is.h);
      for (int32_t x = 0; x < os.w; x++) {
        int32_t x0 = x * stride_w - pad_left, x1 = ES_MIN(x0 + kw, is.w + pad_right);
        const int32_t padded_w = x1 - x0;
        x0 = ES_MAX(x0, 0);
        x1 = ES_MIN(x1, is.w);
        const int32_t inside = ES_MAX(y1 - y0, 0) * ES_MAX(x1 - x0, 0);
        const int32_t divisor = divisor_override > 0 ? divisor_override
                                : count_include_pad ? padded_h * padded_w
                                                    : inside;
        const float scale = divisor > 0 ? 1.0f / (float)divisor : 0.0f;
        float *o = out + (((size_t)n * os.h + y) * os.w + x) * C;
        int32_t c = 0;
#if ES_NEON
        for (; c + 4 <= C; c += 4)
          vst1q_f32(o + c, es_bounds4_apply(&bounds4, vmulq_n_f32(window_sum4(in_n, is.w, C, y0, y1, x0, x1, c), scale)));
#else
        for (; c + 8 <= C; c += 8) {
          es_v8 v = window_sum8(in_n, is.w, C, y0, y1, x0, x1, c) * es_v8_splat(scale);
          es_v8_bounds_apply(&bounds, &v);
          es_v8_store(o + c, &v);
        }
#endif
        for (; c < C; c++) {
          float acc = 0.0f;
          for (int32_t iy = y0; iy < y1; iy++)
            for (int32_t ix = x0; ix < x1; ix++) acc += in_n[((size_t)iy * is.w + ix) * C + c];
          o[c] = es_bounds_apply(bounds, acc * scale);
        }
      }
    }
  }
}
