/* es_max_pool2d_s8: NHWC; windows are clipped to the input (padding adds nothing). */
#include <string.h>

#include "edgespec/kernels_int8.h"
#include "edgespec/pool_window.h"

/* Plain loops, kept from becoming memcpy / memset calls (picolibc's cost about 7
 * instructions per byte on bare metal). */
#pragma GCC optimize("no-tree-loop-distribute-patterns")

/* GNU C vectors of 32 and 8 codes: the compiler maps them onto the target's SIMD (AVX2 /
 * AVX-512 vpmaxsb, NEON smax). */
typedef int8_t s8x32 __attribute__((vector_size(32)));
#if !defined(__clang__)
/* s8x32 only passes between always-inline functions, so the x86 note that returning it
 * without AVX has another ABI does not apply. */
#pragma GCC diagnostic ignored "-Wpsabi"
#endif
typedef int8_t s8x8 __attribute__((vector_size(8)));

#define ES_POOL_INLINE static inline __attribute__((always_inline))

#define ES_POOL_VECTOR_OPS(V)                                                         \
  ES_POOL_INLINE V V##_load(const int8_t *p) {                                        \
    V v;                                                                              \
    memcpy(&v, p, sizeof v);                                                          \
    return v;                                                                         \
  }                                                                                   \
  ES_POOL_INLINE V V##_max(V a, V b) {                                                \
    const V take = (V)(b > a);                                                        \
    return (b & take) | (a & ~take);                                                  \
  }                                                                                   \
  ES_POOL_INLINE V V##_min(V a, V b) {                                                \
    const V take = (V)(b < a);                                                        \
    return (b & take) | (a & ~take);                                                  \
  }
ES_POOL_VECTOR_OPS(s8x32)
ES_POOL_VECTOR_OPS(s8x8)

/* One output pixel: channels in vectors of 32, then 8, then one at a time, each over the
 * window's taps inside the input with the maxima in registers, then clamped. Per tap through
 * the output row, as the compiler vectorized it, ShuffleNetV2's 3x3 pool of 112x112x24 took
 * 352 us on the host. */
#define ES_POOL_CHANNELS(V, LANES)                                                                       \
  for (; c + (LANES) <= C; c += (LANES)) {                                                               \
    V m = V##_load(first + c);                                                                           \
    for (int32_t ky = ky0; ky < ky1; ky++)                                                               \
      for (int32_t kx = kx0; kx < kx1; kx++)                                                             \
        m = V##_max(m, V##_load(in_n + ((size_t)(y0 + ky * dilation_h) * is.w + x0 + kx * dilation_w) * IC + c)); \
    m = V##_min(V##_max(m, (V){0} + lo), (V){0} + hi);                                                   \
    memcpy(o + c, &m, sizeof m);                                                                         \
  }

void es_max_pool2d_s8(const int8_t *in, es_shape4 is, int8_t *out, es_shape4 os, int32_t kh,
                      int32_t kw, int32_t stride_h, int32_t stride_w, int32_t pad_top,
                      int32_t pad_left, int32_t dilation_h, int32_t dilation_w, int32_t act_min,
                      int32_t act_max) {
  if (os.n <= 0 || os.h <= 0 || os.w <= 0 || os.c <= 0 || stride_h <= 0 || stride_w <= 0 ||
      dilation_h <= 0 || dilation_w <= 0)
    return;
  const int32_t C = os.c, IC = is.c; /* channels pooled; the input's pixel stride */
  const int8_t lo = (int8_t)(act_min < -128 ? -128 : act_min > 127 ? 127 : act_min);
  const int8_t hi = (int8_t)(act_max < -128 ? -128 : act_max > 127 ? 127 : act_max);
  for (int32_t b = 0; b < os.n; b++) {
    const int8_t *in_n = in + (size_t)b * is.h * is.w * IC;
    for (int32_t y = 0; y < os.h; y++)
      for (int32_t x = 0; x < os.w; x++) {
        int8_t *o = out + (((size_t)b * os.h + y) * os.w + x) * C;
        const int32_t y0 = y * stride_h - pad_top, x0 = x * stride_w - pad_left;
        int32_t ky0, ky1, kx0, kx1;
        es_pool_taps_inside(y0, is.h, kh, dilation_h, &ky0, &ky1);
        es_pool_taps_inside(x0, is.w, kw, dilation_w, &kx0, &kx1);
        int32_t c = 0;
        if (ky0 >= ky1 || kx0 >= kx1) {
          /* A window entirely in the padding has no value: like fp32's -inf, it clamps to act_min. */
          for (; c < C; c++) o[c] = lo;
          continue;
        }
        /* The first tap starts the maxima; taking it again changes nothing. */
        const int8_t *first = in_n + ((size_t)(y0 + ky0 * dilation_h) * is.w + x0 + kx0 * dilation_w) * IC;
        ES_POOL_CHANNELS(s8x32, 32)
        ES_POOL_CHANNELS(s8x8, 8)
        for (; c < C; c++) {
          int8_t m = first[c];
          for (int32_t ky = ky0; ky < ky1; ky++)
            for (int32_t kx = kx0; kx < kx1; kx++) {
              const int8_t v = in_n[((size_t)(y0 + ky * dilation_h) * is.w + x0 + kx * dilation_w) * IC + c];
              m = v > m ? v : m;
            }
          o[c] = m < lo ? lo : m > hi ? hi : m;
        }
      }
  }
}
