#include <math.h>
#include <string.h>

#include "edgespec/kernels_int8.h"

#if defined(__AVX512F__) || (defined(__AVX2__) && !defined(ES_NO_X86_SIMD))
#include <immintrin.h>
#elif defined(__ARM_NEON) && !defined(ES_NO_NEON)
#include <arm_neon.h>
#define ES_QUANTIZE_NEON 1
#endif

/* q = clamp(round_half_away(x * inv_scale) + zp). The value is clamped to [-1024, 1024]
 * first (converting an out-of-range float to int is undefined; NaN becomes 0), so the
 * conversion truncates safely and v - trunc(v) is exact: one more or one less where that
 * fraction reaches a half is roundf exactly. The portable loop has no calls and no float
 * compares with NaN, so GCC vectorizes it; AVX-512 and AVX2 get the same steps by hand.
 * NEON has the rounding in one instruction: fcvtas rounds half away from zero, gives 0 for
 * NaN and saturates out-of-range values, which then saturate to int8 as the clamp to
 * [-1024, 1024] does (|zp| <= 128), so 16 values take about 20 instructions (GCC's
 * vectorization of the portable loop took about 100). */
void es_quantize_s8(const float *in, int8_t *out, int32_t count, float inv_scale, int32_t zp) {
  int32_t i = 0;
#if defined(__AVX512F__)
  const __m512 scale = _mm512_set1_ps(inv_scale), lo = _mm512_set1_ps(-1024.0f), hi = _mm512_set1_ps(1024.0f);
  const __m512 half = _mm512_set1_ps(0.5f), minus_half = _mm512_set1_ps(-0.5f);
  const __m512i one = _mm512_set1_epi32(1), zero_point = _mm512_set1_epi32(zp);
  for (; i + 16 <= count; i += 16) {
    __m512 v = _mm512_mul_ps(_mm512_loadu_ps(in + i), scale);
    v = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(v, v, _CMP_ORD_Q), v);
    v = _mm512_min_ps(_mm512_max_ps(v, lo), hi);
    __m512i t = _mm512_cvttps_epi32(v);
    const __m512 frac = _mm512_sub_ps(v, _mm512_cvtepi32_ps(t));
    t = _mm512_mask_add_epi32(t, _mm512_cmp_ps_mask(frac, half, _CMP_GE_OQ), t, one);
    t = _mm512_mask_sub_epi32(t, _mm512_cmp_ps_mask(frac, minus_half, _CMP_LE_OQ), t, one);
    _mm_storeu_si128((__m128i *)(out + i), _mm512_cvtsepi32_epi8(_mm512_add_epi32(t, zero_point)));
  }
#elif defined(__AVX2__) && !defined(ES_NO_X86_SIMD)
  const __m256 scale = _mm256_set1_ps(inv_scale), lo = _mm256_set1_ps(-1024.0f), hi = _mm256_set1_ps(1024.0f);
  const __m256 half = _mm256_set1_ps(0.5f), minus_half = _mm256_set1_ps(-0.5f);
  const __m256i zero_point = _mm256_set1_epi32(zp);
  for (; i + 8 <= count; i += 8) {
    __m256 v = _mm256_mul_ps(_mm256_loadu_ps(in + i), scale);
    v = _mm256_and_ps(v, _mm256_cmp_ps(v, v, _CMP_ORD_Q)); /* NaN -> +0 */
    v = _mm256_min_ps(_mm256_max_ps(v, lo), hi);
    __m256i t = _mm256_cvttps_epi32(v);
    const __m256 frac = _mm256_sub_ps(v, _mm256_cvtepi32_ps(t));
    /* the compares are all-ones (-1) where true */
    t = _mm256_sub_epi32(t, _mm256_castps_si256(_mm256_cmp_ps(frac, half, _CMP_GE_OQ)));
    t = _mm256_add_epi32(t, _mm256_castps_si256(_mm256_cmp_ps(frac, minus_half, _CMP_LE_OQ)));
    t = _mm256_add_epi32(t, zero_point);
    const __m128i w = _mm_packs_epi32(_mm256_castsi256_si128(t), _mm256_extracti128_si256(t, 1));
    _mm_storel_epi64((__m128i *)(void *)(out + i), _mm_packs_epi16(w, w));
  }
#elif defined(ES_QUANTIZE_NEON)
  const float32x4_t scale = vdupq_n_f32(inv_scale);
  const int32x4_t zero_point = vdupq_n_s32(zp);
  for (; i + 16 <= count; i += 16) {
    int32x4_t t[4];
    for (int j = 0; j < 4; j++) t[j] = vqaddq_s32(vcvtaq_s32_f32(vmulq_f32(vld1q_f32(in + i + 4 * j), scale)), zero_point);
    const int16x8_t lo = vcombine_s16(vqmovn_s32(t[0]), vqmovn_s32(t[1]));
    const int16x8_t hi = vcombine_s16(vqmovn_s32(t[2]), vqmovn_s32(t[3]));
    vst1q_s8(out + i, vcombine_s8(vqmovn_s16(lo), vqmovn_s16(hi)));
  }
#endif
  for (; i < count; i++) {
    float v = in[i] * inv_scale;
    uint32_t bits;
    memcpy(&bits, &v, 4);
    bits &= (bits & 0x7fffffffu) > 0x7f800000u ? 0u : ~0u; /* NaN -> +0 */
    memcpy(&v, &bits, 4);
    v = fminf(fmaxf(v, -1024.0f), 1024.0f);
    const int32_t t = (int32_t)v;
    const float frac = v - (float)t;
    const int32_t q = t + (frac >= 0.5f) - (frac <= -0.5f) + zp;
    out[i] = (int8_t)(q < -128 ? -128 : q > 127 ? 127 : q);
  }
}
