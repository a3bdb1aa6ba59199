/* es_add_s8: TFLite's int8 add. Both inputs, less their zero points, are shifted left by
 * 20 bits (precision through the rescale), requantized to a common scale, summed and
 * requantized to the output. 16 elements at a time with NEON or AVX-512, 8 with AVX2
 * (requant_s8.h). */
#include "requant_s8.h"

/* TFLite's int8 add: inputs shifted left by 20 bits keep precision through the rescale. */
#define ES_ADD_LEFT_SHIFT 20

#if defined(ES_S8_VNNI)
/* An input's rescale, es_requantize((x - zp) << 20, mult, shift), for 16 lanes. With v = x - zp
 * (|v| <= 255) the high multiply is floor((v * mult + 2^10) / 2^11) = v * (mult >> 11) +
 * ((v * (mult & 2047) + 2^10) >> 11), every term within 32 bits, and for shift <= 0 the
 * divide rounds in 32 bits too: 12 instructions where the 64-bit requantization took 16.
 * TFLite gives the input of the larger scale a multiplier of exactly 1/2 (2^30, shift 0):
 * then the result is v << 19, one shift. Positive shifts take the general requantization. */
enum { ADD_HALF, ADD_SPLIT, ADD_GENERAL };

typedef struct {
  int kind;
  __m512i zp, mh, ml, half, neg, e;
  es_s8_requant16_consts q;
} add_rescale;

static add_rescale add_rescale_make(int32_t zp, int32_t mult, int32_t shift) {
  const es_s8_output raw = {0, INT32_MIN, INT32_MAX}; /* no zero point, no clamp */
  add_rescale r;
  memset(&r, 0, sizeof r);
  r.kind = mult == (1 << 30) && shift == 0 ? ADD_HALF : shift <= 0 ? ADD_SPLIT : ADD_GENERAL;
  r.zp = _mm512_set1_epi32(zp);
  r.mh = _mm512_set1_epi32(mult >> 11);
  r.ml = _mm512_set1_epi32(mult & 2047);
  r.e = _mm512_set1_epi32(-shift);
  r.half = _mm512_set1_epi32(shift < 0 ? 1 << (-shift - 1) : 0);
  r.neg = _mm512_set1_epi32(shift < 0 ? -1 : 0);
  if (r.kind == ADD_GENERAL) r.q = es_s8_requant16_make(_mm512_set1_epi32(mult), _mm512_set1_epi32(shift), &raw);
  return r;
}

static inline __m512i add_rescale16(const add_rescale *r, __m128i x) {
  const __m512i v = _mm512_sub_epi32(_mm512_cvtepi8_epi32(x), r->zp);
  if (r->kind == ADD_HALF) return _mm512_slli_epi32(v, ES_ADD_LEFT_SHIFT - 1);
  if (r->kind == ADD_GENERAL) return es_s8_requant16_apply(&r->q, _mm512_slli_epi32(v, ES_ADD_LEFT_SHIFT));
  const __m512i y = _mm512_add_epi32(_mm512_mullo_epi32(v, r->mh),
                                     _mm512_srai_epi32(_mm512_add_epi32(_mm512_mullo_epi32(v, r->ml), _mm512_set1_epi32(1 << 10)), 11));
  /* RoundingDivideByPOT(y, e): (y + 2^(e-1) - [y < 0]) >> e, nothing for e = 0 */
  const __m512i up = _mm512_add_epi32(_mm512_add_epi32(y, r->half), _mm512_and_si512(_mm512_srai_epi32(y, 31), r->neg));
  return _mm512_srav_epi32(up, r->e);
}
#endif

void es_add_s8(const int8_t *a, int32_t a_zp, int32_t a_mult, int32_t a_shift, const int8_t *b,
               int32_t b_zp, int32_t b_mult, int32_t b_shift, int8_t *out, int32_t count,
               int32_t out_zp, int32_t out_mult, int32_t out_shift, int32_t act_min,
               int32_t act_max) {
  int32_t i = 0;
#if defined(ES_S8_NEON) || defined(ES_S8_VNNI) || defined(ES_S8_AVX2)
  const es_s8_output o = {out_zp, act_min, act_max};
#endif
#if defined(ES_S8_NEON)
  const es_s8_requant4_consts qa = es_s8_requant4_make(vdupq_n_s32(a_mult), vdupq_n_s32(a_shift), &o);
  const es_s8_requant4_consts qb = es_s8_requant4_make(vdupq_n_s32(b_mult), vdupq_n_s32(b_shift), &o);
  const es_s8_requant4_consts qo = es_s8_requant4_make(vdupq_n_s32(out_mult), vdupq_n_s32(out_shift), &o);
  const int32x4_t a_off = vdupq_n_s32(a_zp * (1 << ES_ADD_LEFT_SHIFT)), b_off = vdupq_n_s32(b_zp * (1 << ES_ADD_LEFT_SHIFT));
  for (; i + 16 <= count; i += 16) {
    const int8x16_t va = vld1q_s8(a + i), vb = vld1q_s8(b + i);
    const int16x8_t a_lo = vmovl_s8(vget_low_s8(va)), a_hi = vmovl_high_s8(va);
    const int16x8_t b_lo = vmovl_s8(vget_low_s8(vb)), b_hi = vmovl_high_s8(vb);
    const int32x4_t xa[4] = {vmovl_s16(vget_low_s16(a_lo)), vmovl_high_s16(a_lo), vmovl_s16(vget_low_s16(a_hi)), vmovl_high_s16(a_hi)};
    const int32x4_t xb[4] = {vmovl_s16(vget_low_s16(b_lo)), vmovl_high_s16(b_lo), vmovl_s16(vget_low_s16(b_hi)), vmovl_high_s16(b_hi)};
    int32x4_t r[4];
    for (int j = 0; j < 4; j++) {
      const int32x4_t sa = es_s8_requant4(&qa, vsubq_s32(vshlq_n_s32(xa[j], ES_ADD_LEFT_SHIFT), a_off));
      const int32x4_t sb = es_s8_requant4(&qb, vsubq_s32(vshlq_n_s32(xb[j], ES_ADD_LEFT_SHIFT), b_off));
      r[j] = es_s8_requant4(&qo, vaddq_s32(sa, sb));
    }
    vst1q_s8(out + i, es_s8_narrow16(&qo, r[0], r[1], r[2], r[3]));
  }
#elif defined(ES_S8_VNNI)
  const add_rescale ra = add_rescale_make(a_zp, a_mult, a_shift), rb = add_rescale_make(b_zp, b_mult, b_shift);
  const es_s8_requant16_consts qo = es_s8_requant16_make(_mm512_set1_epi32(out_mult), _mm512_set1_epi32(out_shift), &o);
  for (; i + 16 <= count; i += 16) {
    const __m512i sa = add_rescale16(&ra, _mm_loadu_si128((const __m128i *)(a + i)));
    const __m512i sb = add_rescale16(&rb, _mm_loadu_si128((const __m128i *)(b + i)));
    _mm_storeu_si128((__m128i *)(out + i), _mm512_cvtepi32_epi8(es_s8_requant16_apply(&qo, _mm512_add_epi32(sa, sb))));
  }
#elif defined(ES_S8_AVX2)
  const es_s8_output raw = {0, INT32_MIN, INT32_MAX};
  const es_s8_requant8_consts qa = es_s8_requant8_make(_mm256_set1_epi32(a_mult), _mm256_set1_epi32(a_shift), &raw);
  const es_s8_requant8_consts qb = es_s8_requant8_make(_mm256_set1_epi32(b_mult), _mm256_set1_epi32(b_shift), &raw);
  const es_s8_requant8_consts qo = es_s8_requant8_make(_mm256_set1_epi32(out_mult), _mm256_set1_epi32(out_shift), &o);
  const __m256i a_off = _mm256_set1_epi32(a_zp * (1 << ES_ADD_LEFT_SHIFT)), b_off = _mm256_set1_epi32(b_zp * (1 << ES_ADD_LEFT_SHIFT));
  for (; i + 8 <= count; i += 8) {
    const __m256i xa = _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(const void *)(a + i)));
    const __m256i xb = _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(const void *)(b + i)));
    const __m256i sa = es_s8_requant8_raw(&qa, _mm256_sub_epi32(_mm256_slli_epi32(xa, ES_ADD_LEFT_SHIFT), a_off));
    const __m256i sb = es_s8_requant8_raw(&qb, _mm256_sub_epi32(_mm256_slli_epi32(xb, ES_ADD_LEFT_SHIFT), b_off));
    _mm_storel_epi64((__m128i *)(void *)(out + i), es_s8_bytes8(es_s8_requant8(&qo, _mm256_add_epi32(sa, sb))));
  }
#endif
  for (; i < count; i++) {
    const int32_t sa = es_requantize(((int32_t)a[i] - a_zp) * (1 << ES_ADD_LEFT_SHIFT), a_mult, a_shift);
    const int32_t sb = es_requantize(((int32_t)b[i] - b_zp) * (1 << ES_ADD_LEFT_SHIFT), b_mult, b_shift);
    out[i] = es_clamp_to_s8(out_zp + es_requantize(sa + sb, out_mult, out_shift), act_min, act_max);
  }
}
