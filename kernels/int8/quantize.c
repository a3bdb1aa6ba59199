#include <math.h>
#include <string.h>

#include "edgespec/kernels_int8.h"

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

/* q = clamp(round_half_away(x * inv_scale) + zp). The value is clamped to [-1024, 1024]
 * first (converting an out-of-range float to int is undefined; NaN becomes 0), so the
 * conversion truncates safely and v - trunc(v) is exact: one more or one less where that
 * fraction reaches a half is roundf exactly. The portable loop has no calls and no float
 * compares with NaN, so GCC vectorizes it for NEON; AVX-512 gets the same steps by hand. */
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
