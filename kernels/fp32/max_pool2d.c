/* es_max_pool2d_f32: NHWC; padding cells are -inf, so windows are clipped to the input.
 * NaN propagates as in PyTorch. */
#include <math.h>

#include "edgespec/pool_window.h"
#include "internal.h"

/* The larger of m and v per lane, v where it is NaN: `v > m || v != v`, as in the scalar loop. */
ES_INLINE es_v8 max_nan(es_v8 m, es_v8 v) {
  const es_v8i take = (v > m) | (v != v);
  return (es_v8)((take & (es_v8i)v) | (~take & (es_v8i)m));
}

/* Channels [c0, c0 + 8 * NV) of one output pixel over the window's taps inside the input,
 * the maxima in registers. */
#define ES_POOL_VECTORS(NV)                                                                  \
  do {                                                                                       \
    es_v8 m[NV];                                                                             \
    for (int v = 0; v < NV; v++) m[v] = es_v8_splat(-INFINITY);                              \
    for (int32_t ky = ky0; ky < ky1; ky++)                                                   \
      for (int32_t kx = kx0; kx < kx1; kx++) {                                               \
        const float *ip = in_n + ((size_t)(y0 + ky * dilation_h) * is.w + x0 + kx * dilation_w) * C + c0; \
        for (int v = 0; v < NV; v++) m[v] = max_nan(m[v], es_v8_load(ip + 8 * v));          \
      }                                                                                      \
    for (int v = 0; v < NV; v++) es_v8_store(o + c0 + 8 * v, &m[v]);                        \
  } while (0)

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
        /* The taps inside the input, then channels in vectors with the maxima in registers:
         * element by element through `o` (which may alias the input as far as the compiler
         * knows) ShuffleNet's 3x3 pool of 112x112x24 took 226 us, 104 like this. */
        const int32_t y0 = y * stride_h - pad_top, x0 = x * stride_w - pad_left;
        int32_t ky0, ky1, kx0, kx1;
        es_pool_taps_inside(y0, is.h, kh, dilation_h, &ky0, &ky1);
        es_pool_taps_inside(x0, is.w, kw, dilation_w, &kx0, &kx1);
        int32_t c0 = 0;
        for (; c0 + 32 <= C; c0 += 32) ES_POOL_VECTORS(4);
        for (; c0 + 8 <= C; c0 += 8) ES_POOL_VECTORS(1);
        for (int32_t c = c0; c < C; c++) {
          float m = -INFINITY;
          for (int32_t ky = ky0; ky < ky1; ky++)
            for (int32_t kx = kx0; kx < kx1; kx++) {
              const float v = in_n[((size_t)(y0 + ky * dilation_h) * is.w + x0 + kx * dilation_w) * C + c];
              m = (v > m || v != v) ? v : m;
            }
          o[c] = m;
        }
        es_clamp_span(o, o, (size_t)C, act_min, act_max);
      }
  }
}
