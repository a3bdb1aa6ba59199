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
#if defined(__AVX__)
#include <immintrin.h>
#endif

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

#if ES_VF_LANES == 16
typedef uint32_t es_vfu __attribute__((vector_size(64)));
#else
typedef uint32_t es_vfu __attribute__((vector_size(32)));
#endif

/* x clamped to [ES_EXP_MIN_X, ES_EXP_MAX_X], NaN kept. x86's MINPS/MAXPS return their
 * second operand when either is NaN: one instruction per bound where a compare and a blend
 * take two. */
ES_INLINE void es_vf_clamp_exp_range(es_vf *v) {
#if ES_VF_LANES == 16 && defined(__AVX512F__)
  *v = (es_vf)_mm512_max_ps((__m512)es_vf_splat(ES_EXP_MIN_X), _mm512_min_ps((__m512)es_vf_splat(ES_EXP_MAX_X), (__m512)*v));
#elif ES_VF_LANES == 8 && defined(__AVX__)
  *v = (es_vf)_mm256_max_ps((__m256)es_vf_splat(ES_EXP_MIN_X), _mm256_min_ps((__m256)es_vf_splat(ES_EXP_MAX_X), (__m256)*v));
#else
  const es_bounds range = es_bounds_make(ES_EXP_MIN_X, ES_EXP_MAX_X);
  es_vf_bounds_apply(&range, v); /* compares are false for NaN, so NaN stays */
#endif
}

/* The same computation on es_vf, the target's widest vector (no FMA needed: n * ES_EXP_LN2_HI
 * is exact), stopping one step short: *v becomes e^x / 2, which callers double inside their
 * own multiply-add (1 + e^x as fma(h, 2, 1) is the same float as 1 + (h + h), since h + h is
 * exact). By pointer, as in es_vf_bounds_apply. */
ES_INLINE void es_vf_exp_half(es_vf *v) {
  es_vf x = *v;
  es_vf_clamp_exp_range(&x);
  const es_vf rounder = es_vf_splat(ES_EXP_ROUNDER);
  const es_vf z = x * ES_EXP_LOG2E + rounder;
  const es_vf n = z - rounder;
  const es_vf r = (x - n * ES_EXP_LN2_HI) - n * ES_EXP_LN2_LO;
  const es_vf scale = (es_vf)(((es_vfu)z << 23) + ES_EXP_HALF_BITS);
  const es_vf q = ((ES_EXP_C6 * r + ES_EXP_C5) * r + ES_EXP_C4) * r + ES_EXP_C3;
  const es_vf expm1_r = r * r * (q * r + ES_EXP_C2) + r;
  *v = scale * expm1_r + scale;
}

/* A logistic kernel on es_vf: out[i] = EXPR(x, h) with h = e^-x / 2; the tail goes through
 * the same vector code, so every element agrees. */
#define ES_DEFINE_LOGISTIC_KERNEL(NAME, EXPR)                                     \
  ES_INLINE void NAME##_vector(es_vf *v) {                                      \
    const es_vf x = *v;                                                         \
    es_vf h = -x;                                                               \
    es_vf_exp_half(&h);                                                         \
    *v = EXPR;                                                                  \
  }                                                                             \
  void NAME(const float *in, float *out, int32_t count) {                       \
    int32_t i = 0;                                                              \
    for (; i + ES_VF_LANES <= count; i += ES_VF_LANES) {                        \
      es_vf v = es_vf_load(in + i);                                             \
      NAME##_vector(&v);                                                        \
      es_vf_store(out + i, &v);                                                 \
    }                                                                           \
    if (i < count) {                                                            \
      float tail[ES_VF_LANES] = {0};                                            \
      memcpy(tail, in + i, (size_t)(count - i) * sizeof(float));                \
      es_vf v = es_vf_load(tail);                                               \
      NAME##_vector(&v);                                                        \
      es_vf_store(tail, &v);                                                    \
      memcpy(out + i, tail, (size_t)(count - i) * sizeof(float));               \
    }                                                                           \
  }

#endif
