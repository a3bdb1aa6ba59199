/* Vectorized es_requantize (kernels_int8.h) plus output zero point and clamp, for the int8
 * kernels (not part of the kernel API). Bit-exact with the scalar arithmetic for every
 * int32 accumulator, given multipliers >= 0 (the build makes them in [2^30, 2^31) or 0).
 *
 * - NEON: sshl is the wrapping left shift; sqrdmulh is SaturatingRoundingDoublingHighMul;
 *   srshl rounds half up, and subtracting 1 from negative values first (only where there
 *   is a right shift, via the sign bit of the negated shift) makes it RoundingDivideByPOT's
 *   half away from zero. Zero point and clamp come after narrowing (es_s8_narrow16).
 * - AVX-512: the high multiply as 64-bit products of the even and odd lanes,
 *   (x * mult + 2^30) >> 31, which equals the rounding doubling high multiply; the divide
 *   as an arithmetic shift plus one where the remainder passes TFLite's threshold.
 * - AVX2 (x86 without AVX-512 VNNI): the same steps on 8 lanes, with the per-lane constants
 *   made once per block of columns (es_s8_requant8_make). AVX2 has no 64-bit arithmetic
 *   shift; the logical one leaves the same low 32 bits, which are all that is kept. */
#ifndef EDGESPEC_INT8_REQUANT_S8_H
#define EDGESPEC_INT8_REQUANT_S8_H

#include <stdint.h>
#include <string.h>

#include "edgespec/kernels_int8.h"

#if defined(__ARM_NEON) && !defined(ES_NO_NEON)
#define ES_S8_NEON 1
#include <arm_neon.h>
#elif defined(__AVX512VNNI__) && defined(__AVX512BW__) && defined(__AVX512VL__) && !defined(ES_NO_X86_SIMD)
#define ES_S8_VNNI 1
#include <immintrin.h>
#elif defined(__AVX2__) && !defined(ES_NO_X86_SIMD)
#define ES_S8_AVX2 1
#include <immintrin.h>
#endif

#define ES_S8_INLINE static inline __attribute__((always_inline))

/* The output side of a call: zero point and fused clamp, in the output's int8 domain. */
typedef struct {
  int32_t out_zp, act_min, act_max;
} es_s8_output;

#if defined(ES_S8_NEON)

typedef struct {
  int32x4_t mult, left, right; /* right: minus the right shift (<= 0) */
  int16x8_t zp;
  int8x16_t lo, hi;
} es_s8_requant4_consts;

ES_S8_INLINE es_s8_requant4_consts es_s8_requant4_make(int32x4_t mult, int32x4_t shift, const es_s8_output *o) {
  es_s8_requant4_consts q = {mult, vmaxq_s32(shift, vdupq_n_s32(0)), vminq_s32(shift, vdupq_n_s32(0)),
                             vdupq_n_s16((int16_t)o->out_zp), vdupq_n_s8((int8_t)o->act_min), vdupq_n_s8((int8_t)o->act_max)};
  return q;
}

/* requant(x) in int32 lanes, without zero point or clamp. */
ES_S8_INLINE int32x4_t es_s8_requant4(const es_s8_requant4_consts *q, int32x4_t x) {
  x = vqrdmulhq_s32(vshlq_s32(x, q->left), q->mult);
  const int32x4_t fixup = vshrq_n_s32(vandq_s32(x, q->right), 31);
  return vrshlq_s32(vqaddq_s32(x, fixup), q->right);
}

/* 16 requantized values (es_s8_requant4) -> clamp(out_zp + r, act_min, act_max) as bytes.
 * The zero point is added after saturating to int16: a value beyond int16 is beyond
 * int8 either way, so this equals the int32 sum clamped (act_min, act_max in [-128, 127]). */
ES_S8_INLINE int8x16_t es_s8_narrow16(const es_s8_requant4_consts *q, int32x4_t r0, int32x4_t r1, int32x4_t r2,
                                      int32x4_t r3) {
  const int16x8_t n01 = vqaddq_s16(vcombine_s16(vqmovn_s32(r0), vqmovn_s32(r1)), q->zp);
  const int16x8_t n23 = vqaddq_s16(vcombine_s16(vqmovn_s32(r2), vqmovn_s32(r3)), q->zp);
  const int8x16_t bytes = vcombine_s8(vqmovn_s16(n01), vqmovn_s16(n23));
  return vminq_s8(vmaxq_s8(bytes, q->lo), q->hi);
}

#elif defined(ES_S8_VNNI)

/* clamp(out_zp + requant(x)) for 16 lanes with their own mult and shift. Each lane's
 * product p = (x << left) * mult is exact in 64 bits, and both of TFLite's roundings are one
 * floor division: SaturatingRoundingDoublingHighMul is y = floor((p + 2^30) / 2^31) and
 * RoundingDivideByPOT(y, e) = floor((y + 2^(e-1) - [y < 0]) / 2^e) for e > 0, so the result
 * is (p + 2^30 + 2^(30+e) - 2^31 [p < -2^30]) >> (31 + e), with |p| < 2^62 (mult < 2^31):
 * no overflow, and 13 instructions per 16 lanes where the two roundings took 17. The
 * per-lane terms depend only on mult and shift: es_s8_requant16_make once per block of
 * columns, es_s8_requant16_apply per vector. */
typedef struct {
  __m512i left, mult, mult_odd, by_even, by_odd, half_even, half_odd, neg_even, neg_odd, zp, lo, hi;
} es_s8_requant16_consts;

ES_S8_INLINE es_s8_requant16_consts es_s8_requant16_make(__m512i mult, __m512i shift, const es_s8_output *o) {
  const __m512i zero = _mm512_setzero_si512();
  const __m512i right = _mm512_sub_epi32(zero, _mm512_min_epi32(shift, zero)); /* e */
  /* 64-bit lanes: e of the even and the odd 32-bit lanes */
  const __m512i e_even = _mm512_srli_epi64(_mm512_slli_epi64(right, 32), 32), e_odd = _mm512_srli_epi64(right, 32);
  const __m512i one = _mm512_set1_epi64(1), nudge = _mm512_set1_epi64((int64_t)1 << 30);
  const __m512i by_even = _mm512_add_epi64(e_even, _mm512_set1_epi64(31)), by_odd = _mm512_add_epi64(e_odd, _mm512_set1_epi64(31));
  es_s8_requant16_consts q;
  q.left = _mm512_max_epi32(shift, zero);
  q.mult = mult;
  q.mult_odd = _mm512_srli_epi64(mult, 32);
  q.by_even = by_even;
  q.by_odd = by_odd;
  /* 2^30 + 2^(30+e) for e > 0, 2^30 for e = 0 */
  q.half_even = _mm512_mask_blend_epi64(_mm512_cmpeq_epi64_mask(e_even, zero),
                                        _mm512_add_epi64(nudge, _mm512_srli_epi64(_mm512_sllv_epi64(one, by_even), 1)), nudge);
  q.half_odd = _mm512_mask_blend_epi64(_mm512_cmpeq_epi64_mask(e_odd, zero),
                                       _mm512_add_epi64(nudge, _mm512_srli_epi64(_mm512_sllv_epi64(one, by_odd), 1)), nudge);
  q.neg_even = _mm512_maskz_mov_epi64(_mm512_cmpneq_epi64_mask(e_even, zero), _mm512_set1_epi64((int64_t)1 << 31));
  q.neg_odd = _mm512_maskz_mov_epi64(_mm512_cmpneq_epi64_mask(e_odd, zero), _mm512_set1_epi64((int64_t)1 << 31));
  q.zp = _mm512_set1_epi32(o->out_zp);
  q.lo = _mm512_set1_epi32(o->act_min);
  q.hi = _mm512_set1_epi32(o->act_max);
  return q;
}

ES_S8_INLINE __m512i es_s8_requant16_apply(const es_s8_requant16_consts *q, __m512i x) {
  const __m512i below = _mm512_set1_epi64(-((int64_t)1 << 30));
  x = _mm512_sllv_epi32(x, q->left);
  const __m512i p_even = _mm512_mul_epi32(x, q->mult), p_odd = _mm512_mul_epi32(_mm512_srli_epi64(x, 32), q->mult_odd);
  const __m512i t_even = _mm512_add_epi64(p_even, q->half_even), t_odd = _mm512_add_epi64(p_odd, q->half_odd);
  const __m512i z_even = _mm512_srav_epi64(_mm512_mask_sub_epi64(t_even, _mm512_cmplt_epi64_mask(p_even, below), t_even, q->neg_even), q->by_even);
  const __m512i z_odd = _mm512_srav_epi64(_mm512_mask_sub_epi64(t_odd, _mm512_cmplt_epi64_mask(p_odd, below), t_odd, q->neg_odd), q->by_odd);
  x = _mm512_add_epi32(_mm512_mask_shuffle_epi32(z_even, (__mmask16)0xaaaa, z_odd, _MM_PERM_CDAB), q->zp);
  return _mm512_min_epi32(_mm512_max_epi32(x, q->lo), q->hi);
}

ES_S8_INLINE __m512i es_s8_requant16(__m512i x, __m512i mult, __m512i shift, const es_s8_output *o) {
  const es_s8_requant16_consts q = es_s8_requant16_make(mult, shift, o);
  return es_s8_requant16_apply(&q, x);
}

#elif defined(ES_S8_AVX2)

/* Per-lane constants of es_s8_requant8 for 8 lanes with their own mult and shift. */
typedef struct {
  __m256i mult, mult_odd, left, right, mask, half, zp, lo, hi;
} es_s8_requant8_consts;

ES_S8_INLINE es_s8_requant8_consts es_s8_requant8_make(__m256i mult, __m256i shift, const es_s8_output *o) {
  const __m256i zero = _mm256_setzero_si256(), one = _mm256_set1_epi32(1);
  es_s8_requant8_consts q;
  q.mult = mult;
  q.mult_odd = _mm256_srli_epi64(mult, 32);
  q.left = _mm256_max_epi32(shift, zero);
  q.right = _mm256_sub_epi32(zero, _mm256_min_epi32(shift, zero));
  q.mask = _mm256_sub_epi32(_mm256_sllv_epi32(one, q.right), one);
  q.half = _mm256_srai_epi32(q.mask, 1);
  q.zp = _mm256_set1_epi32(o->out_zp);
  q.lo = _mm256_set1_epi32(o->act_min);
  q.hi = _mm256_set1_epi32(o->act_max);
  return q;
}

/* requant(x) in 8 int32 lanes, without zero point or clamp. */
ES_S8_INLINE __m256i es_s8_requant8_raw(const es_s8_requant8_consts *q, __m256i x) {
  x = _mm256_sllv_epi32(x, q->left);
  const __m256i nudge = _mm256_set1_epi64x((int64_t)1 << 30);
  /* Even lanes: bits 31..62 of the product moved down; odd lanes: moved up to 32..63. */
  const __m256i even = _mm256_srli_epi64(_mm256_add_epi64(_mm256_mul_epi32(x, q->mult), nudge), 31);
  const __m256i odd = _mm256_slli_epi64(_mm256_add_epi64(_mm256_mul_epi32(_mm256_srli_epi64(x, 32), q->mult_odd), nudge), 1);
  x = _mm256_blend_epi32(even, odd, 0xaa);
  const __m256i remainder = _mm256_and_si256(x, q->mask);
  const __m256i threshold = _mm256_sub_epi32(q->half, _mm256_srai_epi32(x, 31));
  x = _mm256_srav_epi32(x, q->right);
  return _mm256_sub_epi32(x, _mm256_cmpgt_epi32(remainder, threshold));
}

/* clamp(out_zp + requant(x)) in 8 int32 lanes. */
ES_S8_INLINE __m256i es_s8_requant8(const es_s8_requant8_consts *q, __m256i x) {
  x = _mm256_add_epi32(es_s8_requant8_raw(q, x), q->zp);
  return _mm256_min_epi32(_mm256_max_epi32(x, q->lo), q->hi);
}

/* 8 int32 lanes already in [-128, 127] -> the low 8 bytes. */
ES_S8_INLINE __m128i es_s8_bytes8(__m256i x) {
  const __m128i w = _mm_packs_epi32(_mm256_castsi256_si128(x), _mm256_extracti128_si256(x, 1));
  return _mm_packs_epi16(w, w);
}

#endif

#endif
