/* Vectorized e^x for the logistic kernels (sigmoid, silu): libm's expf costs about 93
 * guest instructions per element and dominated EfficientNet under QEMU.
 *
 * x = n ln2 + r with n = round(x / ln2) and |r| <= ln2 / 2, so e^x = 2^n e^r:
 * - n is rounded by adding 1.5 * 2^23, which leaves n in the low mantissa bits;
 * - r = x - n ln2 in two steps (ln2 split so that n * ln2_hi is exact for |n| < 2^11);
 * - e^r = 1 + r + r^2 q(r), q of degree 4 fitted for least maximum relative error on
 *   |r| <= ln2 / 2 (4.8e-9, below float rounding);
 * - 2^n is applied as 2 (s + s (e^r - 1)) with s = 2^(n-1) built in the exponent field:
 *   one rounding, and n = 128 (x just below the overflow threshold) still fits.
 * Maximum relative error 8.6e-8 (measured against double exp). x is clamped to [-86.5, 89]:
 * - below, 2^(n-1) would leave the normal range, so results stop at e^-86.5 = 2.7e-38
 *   instead of going to 0 (moves sigmoid and silu outputs by less than 1e-36);
 * - above, the result overflows to inf (from x = 88.72, as expf), so
 *   silu(-inf) = -inf / inf = NaN as in PyTorch; the clamp keeps n <= 128.
 * NaN passes through: the clamp keeps it and every later float operation propagates it. */
#ifndef EDGESPEC_FP32_EXP_APPROX_H
#define EDGESPEC_FP32_EXP_APPROX_H

#include "internal.h"

#define ES_EXP_MIN_X -86.5f
#define ES_EXP_MAX_X 89.0f
#define ES_EXP_LOG2E 1.44269504088896341f
#define ES_EXP_ROUNDER 12582912.0f  /* 1.5 * 2^23 */
#define ES_EXP_LN2_HI 0.693145751953125f  /* 0x1.62e4p-1: 16 significant bits */
#define ES_EXP_LN2_LO 1.42860677e-6f      /* ln2 - ES_EXP_LN2_HI */
#define ES_EXP_C2 4.999999404e-01f
#define ES_EXP_C3 1.666651517e-01f
#define ES_EXP_C4 4.166845605e-02f
#define ES_EXP_C5 8.369418792e-03f
#define ES_EXP_C6 1.381314476e-03f
#define ES_EXP_HALF_BITS 0x3f000000u /* 2^-1: the scale is 2^(n-1) */

#if ES_NEON
ES_INLINE float32x4_t es_exp4(float32x4_t x) {
  /* FMIN/FMAX return NaN when either operand is NaN. */
  x = vmaxq_f32(vminq_f32(x, vdupq_n_f32(ES_EXP_MAX_X)), vdupq_n_f32(ES_EXP_MIN_X));
  const float32x4_t rounder = vdupq_n_f32(ES_EXP_ROUNDER);
  const float32x4_t z = vfmaq_f32(rounder, x, vdupq_n_f32(ES_EXP_LOG2E));
  const float32x4_t n = vsubq_f32(z, rounder);
  float32x4_t r = vfmsq_f32(x, n, vdupq_n_f32(ES_EXP_LN2_HI));
  r = vfmsq_f32(r, n, vdupq_n_f32(ES_EXP_LN2_LO));
  /* The low bits of z hold n: shifting them into the exponent field drops the rest. */
  const uint32x4_t scale_bits = vaddq_u32(vshlq_n_u32(vreinterpretq_u32_f32(z), 23), vdupq_n_u32(ES_EXP_HALF_BITS));
  const float32x4_t scale = vreinterpretq_f32_u32(scale_bits);
  const float32x4_t r2 = vmulq_f32(r, r);
  float32x4_t q = vfmaq_f32(vdupq_n_f32(ES_EXP_C5), r, vdupq_n_f32(ES_EXP_C6));
  q = vfmaq_f32(vdupq_n_f32(ES_EXP_C4), r, q);
  q = vfmaq_f32(vdupq_n_f32(ES_EXP_C3), r, q);
  q = vfmaq_f32(vdupq_n_f32(ES_EXP_C2), r, q);
  const float32x4_t expm1_r = vfmaq_f32(r, r2, q);
  const float32x4_t half = vfmaq_f32(scale, scale, expm1_r);
  return vaddq_f32(half, half);
}
#endif

typedef uint32_t es_v8u __attribute__((vector_size(32)));

/* The same computation on es_v8 (no FMA needed: n * ES_EXP_LN2_HI is exact). By pointer,
 * as in es_v8_bounds_apply. */
ES_INLINE void es_v8_exp(es_v8 *v) {
  es_v8 x = *v;
  const es_v8 hi = es_v8_splat(ES_EXP_MAX_X), lo = es_v8_splat(ES_EXP_MIN_X);
  const es_v8i above = x > hi; /* false for NaN, so NaN stays */
  x = (es_v8)((above & (es_v8i)hi) | (~above & (es_v8i)x));
  const es_v8i below = x < lo;
  x = (es_v8)((below & (es_v8i)lo) | (~below & (es_v8i)x));
  const es_v8 rounder = es_v8_splat(ES_EXP_ROUNDER);
  const es_v8 z = x * ES_EXP_LOG2E + rounder;
  const es_v8 n = z - rounder;
  const es_v8 r = (x - n * ES_EXP_LN2_HI) - n * ES_EXP_LN2_LO;
  const es_v8 scale = (es_v8)(((es_v8u)z << 23) + ES_EXP_HALF_BITS);
  const es_v8 q = ((ES_EXP_C6 * r + ES_EXP_C5) * r + ES_EXP_C4) * r + ES_EXP_C3;
  const es_v8 expm1_r = r * r * (q * r + ES_EXP_C2) + r;
  const es_v8 half = scale * expm1_r + scale;
  *v = half + half;
}

#endif
