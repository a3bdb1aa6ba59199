/* es_conv2d_depthwise_s8: depthwise convolution (channel multiplier 1), vectorized over
 * channels.
 *
 * Per output pixel, the taps' input pointers are found once (NULL where the window leaves
 * the input: those taps read in_zp); then 16 channels at a time (8 with AVX2) accumulate every tap in
 * int32 lanes and are requantized together (requant_s8.h).
 * - NEON: smull / smlal(2) put two taps' products in one int16 lane (2 * 128 * 127 <
 *   2^15), saddw(2) widens them into the int32 accumulators.
 * - AVX-512: sign-extend to int32, vpmulld, vpaddd; loads and stores masked, so the
 *   channels past the last whole block run as one more block.
 * - AVX2: 8 channels per block; two taps interleaved, widened to int16, vpmaddwd.
 * - Portable: int32 lanes in plain loops. Channels past the last block take the
 *   portable loop everywhere, except a block of 8 of them on NEON (block8). */
#include <stdlib.h>

#include "panel_vnni.h" /* es_s8_flip_pad_row (AVX-512 VNNI) */
#include "requant_s8.h"

enum { MAX_TAPS = 64 }; /* taps whose pointers are found once per pixel; larger kernels take one pass per 64 */

typedef struct {
  const int8_t *w;
  const int32_t *bias, *mult;
  const int8_t *shift;
  int32_t channels, in_zp;
  es_s8_output o;
#if defined(ES_S8_VNNI)
  const es_s8_requant16_consts *q; /* per block of 16 channels, the first DW_QBLOCKS */
#endif
} dw_args;

/* Channels [c, c + n) of one output pixel, from taps [t0, t0 + taps) of the pixel's
 * pointers src (NULL: padding), accumulated onto acc (int32, n values). */
static void portable_channels(const dw_args *d, const int8_t *const *src, int32_t t0, int32_t taps, int32_t c, int32_t n,
                              int32_t *acc) {
  for (int32_t t = 0; t < taps; t++) {
    const int8_t *w = d->w + (size_t)(t0 + t) * d->channels + c;
    if (src[t]) for (int32_t i = 0; i < n; i++) acc[i] += (int32_t)src[t][c + i] * (int32_t)w[i];
    else for (int32_t i = 0; i < n; i++) acc[i] += d->in_zp * (int32_t)w[i];
  }
}

#if defined(ES_S8_NEON)

typedef struct {
  int32x4_t v[4];
} dw_acc;

/* padded == 0 (a constant where inlined): every src is valid, no checks. */
static inline __attribute__((always_inline)) void dw_block(const dw_args *d, const int8_t *const *src, int32_t t0,
                                                          int32_t taps, int32_t c, dw_acc *a, const int padded) {
  const int8x16_t zp = vdupq_n_s8((int8_t)d->in_zp);
  const int8_t *w = d->w + (size_t)t0 * d->channels + c;
  int32_t t = 0;
  for (; t + 2 <= taps; t += 2, w += 2 * (size_t)d->channels) {
    const int8x16_t x0 = !padded || src[t] ? vld1q_s8(src[t] + c) : zp;
    const int8x16_t x1 = !padded || src[t + 1] ? vld1q_s8(src[t + 1] + c) : zp;
    const int8x16_t w0 = vld1q_s8(w), w1 = vld1q_s8(w + d->channels);
    const int16x8_t lo = vmlal_s8(vmull_s8(vget_low_s8(x0), vget_low_s8(w0)), vget_low_s8(x1), vget_low_s8(w1));
    const int16x8_t hi = vmlal_high_s8(vmull_high_s8(x0, w0), x1, w1);
    a->v[0] = vaddw_s16(a->v[0], vget_low_s16(lo));
    a->v[1] = vaddw_high_s16(a->v[1], lo);
    a->v[2] = vaddw_s16(a->v[2], vget_low_s16(hi));
    a->v[3] = vaddw_high_s16(a->v[3], hi);
  }
  if (t < taps) {
    const int8x16_t x0 = !padded || src[t] ? vld1q_s8(src[t] + c) : zp, w0 = vld1q_s8(w);
    const int16x8_t lo = vmull_s8(vget_low_s8(x0), vget_low_s8(w0)), hi = vmull_high_s8(x0, w0);
    a->v[0] = vaddw_s16(a->v[0], vget_low_s16(lo));
    a->v[1] = vaddw_high_s16(a->v[1], lo);
    a->v[2] = vaddw_s16(a->v[2], vget_low_s16(hi));
    a->v[3] = vaddw_high_s16(a->v[3], hi);
  }
}

static inline dw_acc dw_acc_start(const dw_args *d, int32_t c) {
  dw_acc a;
  for (int i = 0; i < 4; i++) a.v[i] = d->bias ? vld1q_s32(d->bias + c + 4 * i) : vdupq_n_s32(0);
  return a;
}

static inline void dw_acc_store(const dw_args *d, const dw_acc *a, int32_t c, int8_t *out) {
  const int8x16_t shift8 = vld1q_s8(d->shift + c);
  const int16x8_t shift_lo = vmovl_s8(vget_low_s8(shift8)), shift_hi = vmovl_high_s8(shift8);
  const int32x4_t shift[4] = {vmovl_s16(vget_low_s16(shift_lo)), vmovl_high_s16(shift_lo), vmovl_s16(vget_low_s16(shift_hi)),
                              vmovl_high_s16(shift_hi)};
  int32x4_t r[4];
  es_s8_requant4_consts q;
  for (int i = 0; i < 4; i++) {
    q = es_s8_requant4_make(vld1q_s32(d->mult + c + 4 * i), shift[i], &d->o);
    r[i] = es_s8_requant4(&q, a->v[i]);
  }
  vst1q_s8(out + c, es_s8_narrow16(&q, r[0], r[1], r[2], r[3]));
}



/* 8 channels (the block of 8 left after the blocks of 16, such as all of a layer with 8 or 24
 * channels), as dw_block on half vectors; any tap may be padding. */
typedef struct {
  int32x4_t v[2];
} acc8;

static inline __attribute__((always_inline)) void block8(const dw_args *d, const int8_t *const *src, int32_t t0,
                                                         int32_t taps, int32_t c, acc8 *a) {
  const int8x8_t zp = vdup_n_s8((int8_t)d->in_zp);
  const int8_t *w = d->w + (size_t)t0 * d->channels + c;
  int32_t t = 0;
  for (; t + 2 <= taps; t += 2, w += 2 * (size_t)d->channels) {
    const int8x8_t x0 = src[t] ? vld1_s8(src[t] + c) : zp;
    const int8x8_t x1 = src[t + 1] ? vld1_s8(src[t + 1] + c) : zp;
    const int16x8_t p = vmlal_s8(vmull_s8(x0, vld1_s8(w)), x1, vld1_s8(w + d->channels));
    a->v[0] = vaddw_s16(a->v[0], vget_low_s16(p));
    a->v[1] = vaddw_high_s16(a->v[1], p);
  }
  if (t < taps) {
    const int8x8_t x0 = src[t] ? vld1_s8(src[t] + c) : zp;
    const int16x8_t p = vmull_s8(x0, vld1_s8(w));
    a->v[0] = vaddw_s16(a->v[0], vget_low_s16(p));
    a->v[1] = vaddw_high_s16(a->v[1], p);
  }
}

static inline void acc8_run(const dw_args *d, const int8_t *const *src, int32_t taps, int32_t c, int8_t *out) {
  acc8 a;
  for (int i = 0; i < 2; i++) a.v[i] = d->bias ? vld1q_s32(d->bias + c + 4 * i) : vdupq_n_s32(0);
  block8(d, src, 0, taps, c, &a);
  const int16x8_t shift16 = vmovl_s8(vld1_s8(d->shift + c));
  const es_s8_requant4_consts q0 = es_s8_requant4_make(vld1q_s32(d->mult + c), vmovl_s16(vget_low_s16(shift16)), &d->o);
  const es_s8_requant4_consts q1 = es_s8_requant4_make(vld1q_s32(d->mult + c + 4), vmovl_high_s16(shift16), &d->o);
  const int32x4_t r0 = es_s8_requant4(&q0, a.v[0]), r1 = es_s8_requant4(&q1, a.v[1]);
  vst1_s8(out + c, vget_low_s8(es_s8_narrow16(&q0, r0, r1, r0, r1)));
}

/* 3x3, 16 channels: two taps' products in one int16 lane, widened onto the accumulators. */
#define DW_PAIR(xa, wa, xb, wb)                                                                      \
  do {                                                                                           \
    const int16x8_t lo_ = vmlal_s8(vmull_s8(vget_low_s8(xa), vget_low_s8(wa)), vget_low_s8(xb), vget_low_s8(wb)); \
    const int16x8_t hi_ = vmlal_high_s8(vmull_high_s8(xa, wa), xb, wb);                          \
    acc0 = vaddw_s16(acc0, vget_low_s16(lo_));                                                     \
    acc1 = vaddw_high_s16(acc1, lo_);                                                              \
    acc2 = vaddw_s16(acc2, vget_low_s16(hi_));                                                     \
    acc3 = vaddw_high_s16(acc3, hi_);                                                              \
  } while (0)

/* `count` output pixels of one row whose 3x3 windows lie inside the input: rows[ky] is
 * input row ky of the windows, x0 the input column of the first window, step the input
 * columns between windows, dx the columns between taps. The 9 weight vectors of a block of
 * 16 channels stay in registers while the pixels go by. */
static void interior_3x3(const dw_args *d, const int8_t *const rows[3], int32_t x0, int32_t count, int32_t step,
                         int32_t dx, int8_t *out) {
  const size_t channels = (size_t)d->channels, tap_dx = (size_t)dx * channels;
  for (int32_t c = 0; c + 16 <= d->channels; c += 16) {
    const int8_t *w = d->w + c;
    const int8x16_t w0 = vld1q_s8(w), w1 = vld1q_s8(w + channels), w2 = vld1q_s8(w + 2 * channels);
    const int8x16_t w3 = vld1q_s8(w + 3 * channels), w4 = vld1q_s8(w + 4 * channels), w5 = vld1q_s8(w + 5 * channels);
    const int8x16_t w6 = vld1q_s8(w + 6 * channels), w7 = vld1q_s8(w + 7 * channels), w8 = vld1q_s8(w + 8 * channels);
    const int8x16_t shift8 = vld1q_s8(d->shift + c);
    const int16x8_t shift_lo = vmovl_s8(vget_low_s8(shift8)), shift_hi = vmovl_high_s8(shift8);
    const es_s8_requant4_consts q[4] = {
        es_s8_requant4_make(vld1q_s32(d->mult + c), vmovl_s16(vget_low_s16(shift_lo)), &d->o),
        es_s8_requant4_make(vld1q_s32(d->mult + c + 4), vmovl_high_s16(shift_lo), &d->o),
        es_s8_requant4_make(vld1q_s32(d->mult + c + 8), vmovl_s16(vget_low_s16(shift_hi)), &d->o),
        es_s8_requant4_make(vld1q_s32(d->mult + c + 12), vmovl_high_s16(shift_hi), &d->o)};
    for (int32_t i = 0; i < count; i++) {
      const size_t at = (size_t)(x0 + i * step) * channels + (size_t)c;
      const int8_t *p0 = rows[0] + at, *p1 = rows[1] + at, *p2 = rows[2] + at;
      int32x4_t acc0, acc1, acc2, acc3;
      if (d->bias) {
        acc0 = vld1q_s32(d->bias + c), acc1 = vld1q_s32(d->bias + c + 4);
        acc2 = vld1q_s32(d->bias + c + 8), acc3 = vld1q_s32(d->bias + c + 12);
      } else {
        acc0 = acc1 = acc2 = acc3 = vdupq_n_s32(0);
      }
      DW_PAIR(vld1q_s8(p0), w0, vld1q_s8(p0 + tap_dx), w1);
      DW_PAIR(vld1q_s8(p0 + 2 * tap_dx), w2, vld1q_s8(p1), w3);
      DW_PAIR(vld1q_s8(p1 + tap_dx), w4, vld1q_s8(p1 + 2 * tap_dx), w5);
      DW_PAIR(vld1q_s8(p2), w6, vld1q_s8(p2 + tap_dx), w7);
      {
        const int8x16_t x8 = vld1q_s8(p2 + 2 * tap_dx);
        const int16x8_t lo = vmull_s8(vget_low_s8(x8), vget_low_s8(w8)), hi = vmull_high_s8(x8, w8);
        acc0 = vaddw_s16(acc0, vget_low_s16(lo));
        acc1 = vaddw_high_s16(acc1, lo);
        acc2 = vaddw_s16(acc2, vget_low_s16(hi));
        acc3 = vaddw_high_s16(acc3, hi);
      }
      vst1q_s8(out + (size_t)i * channels + c,
               es_s8_narrow16(&q[0], es_s8_requant4(&q[0], acc0), es_s8_requant4(&q[1], acc1), es_s8_requant4(&q[2], acc2),
                              es_s8_requant4(&q[3], acc3)));
    }
  }
}

#elif defined(ES_S8_VNNI)

/* Every load and store of a block of 16 channels takes a mask: the channels past the last
 * whole block (8 of ShuffleNetV2's 24) run as one more block with the lanes beyond the
 * channels off, at the cost of a whole one. Element by element, they kept 24-channel
 * layers off the 3x3 path: 2 GMAC/s. */
typedef struct {
  __m512i v;
} dw_acc;

ES_S8_INLINE __mmask16 dw_mask(const dw_args *d, int32_t c) {
  const int32_t n = d->channels - c;
  return n >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << n) - 1u);
}
#define DW_LOAD(p, m) _mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8((m), (const void *)(p)))

static inline __attribute__((always_inline)) void dw_block(const dw_args *d, const int8_t *const *src, int32_t t0,
                                                          int32_t taps, int32_t c, dw_acc *a, const int padded) {
  const __mmask16 m = dw_mask(d, c);
  const __m512i zp = _mm512_set1_epi32(d->in_zp);
  const int8_t *w = d->w + (size_t)t0 * d->channels + c;
  __m512i acc = a->v;
  for (int32_t t = 0; t < taps; t++, w += d->channels) {
    const __m512i x = !padded || src[t] ? DW_LOAD(src[t] + c, m) : zp;
    acc = _mm512_add_epi32(acc, _mm512_mullo_epi32(x, DW_LOAD(w, m)));
  }
  a->v = acc;
}

static inline dw_acc dw_acc_start(const dw_args *d, int32_t c) {
  dw_acc a = {d->bias ? _mm512_maskz_loadu_epi32(dw_mask(d, c), d->bias + c) : _mm512_setzero_si512()};
  return a;
}

static inline es_s8_requant16_consts dw_requant(const dw_args *d, int32_t c) {
  const __mmask16 m = dw_mask(d, c);
  return es_s8_requant16_make(_mm512_maskz_loadu_epi32(m, d->mult + c), DW_LOAD(d->shift + c, m), &d->o);
}

/* The requantization constants of the first DW_QBLOCKS blocks of channels are made once
 * per call (dw_args.q), not per pixel; later blocks make theirs per pixel. */
enum { DW_QBLOCKS = 16 };

static inline void dw_acc_store(const dw_args *d, const dw_acc *a, int32_t c, int8_t *out) {
  const es_s8_requant16_consts q = c / 16 < DW_QBLOCKS ? d->q[c / 16] : dw_requant(d, c);
  _mm_mask_storeu_epi8(out + c, dw_mask(d, c), _mm512_cvtepi32_epi8(es_s8_requant16_apply(&q, a->v)));
}

/* As the NEON interior_3x3: the 9 weight vectors (as int32) stay in registers. */
static void interior_3x3(const dw_args *d, const int8_t *const rows[3], int32_t x0, int32_t count, int32_t step,
                         int32_t dx, int8_t *out) {
  const size_t channels = (size_t)d->channels, tap_dx = (size_t)dx * channels;
  for (int32_t c = 0; c < d->channels; c += 16) {
    const __mmask16 m = dw_mask(d, c);
    __m512i w[9];
    for (int t = 0; t < 9; t++) w[t] = DW_LOAD(d->w + (size_t)t * channels + c, m);
    const es_s8_requant16_consts q = dw_requant(d, c);
    const __m512i bias = d->bias ? _mm512_maskz_loadu_epi32(m, d->bias + c) : _mm512_setzero_si512();
    for (int32_t i = 0; i < count; i++) {
      const size_t at = (size_t)(x0 + i * step) * channels + (size_t)c;
      __m512i acc = bias;
      for (int ky = 0; ky < 3; ky++) {
        const int8_t *p = rows[ky] + at;
        acc = _mm512_add_epi32(acc, _mm512_mullo_epi32(DW_LOAD(p, m), w[3 * ky]));
        acc = _mm512_add_epi32(acc, _mm512_mullo_epi32(DW_LOAD(p + tap_dx, m), w[3 * ky + 1]));
        acc = _mm512_add_epi32(acc, _mm512_mullo_epi32(DW_LOAD(p + 2 * tap_dx, m), w[3 * ky + 2]));
      }
      _mm_mask_storeu_epi8(out + (size_t)i * channels + c, m, _mm512_cvtepi32_epi8(es_s8_requant16_apply(&q, acc)));
    }
  }
}
/* Stride 1 across (any stride down): an output row is a flat run of os.w * C bytes, and
 * tap (ky, kx) reads the same run of an input row shifted by kx * dilation_w * C bytes, so
 * 64 output bytes (several pixels when C < 64) take one load per tap, whatever C is. The
 * input rows are copied with their padding (in_zp) and sign bits flipped (unsigned for
 * vpdpbusd; the bias gives back 128 * the taps' weight sum); 4 taps' loads are interleaved
 * bytewise (punpck bw then wd, within 128-bit lanes) so that each 32-bit lane holds one
 * output byte's 4 taps, and one vpdpbusd per 16 output bytes takes 4 taps' products: the
 * vpmulld path took one vpmulld per tap per 16 bytes. The channel of a lane repeats every
 * C bytes, so the weights, bias and requantization constants come in `phases` versions
 * (C / gcd(C, 64)); packing the 32-bit results (packssdw, packsswb within lanes) undoes
 * the interleave. */
enum {
  DWF_GROUPS = 7,           /* up to 28 taps (5x5) */
  DWF_PHASES = 8,           /* C / gcd(C, 64) at most */
  DWF_ROW_BYTES = 32768     /* the kh padded rows of two output rows */
};

typedef struct {
  __m512i w[DWF_GROUPS][4]; /* group, vector: 4 taps' weights per 32-bit lane */
  __m512i bias[4];
  es_s8_requant16_consts q[4];
} dwf_phase;

static int32_t dwf_gcd(int32_t a, int32_t b) {
  while (b) {
    const int32_t t = a % b;
    a = b, b = t;
  }
  return a;
}

/* One output row (out_row bytes) from the padded rows at `set`; groups a constant where inlined. */
static inline __attribute__((always_inline)) void dwf_row(const dwf_phase *ph, int32_t phases, const uint8_t *set,
                                                          const ptrdiff_t *tap_at, int8_t *out_r, int32_t out_row,
                                                          const int32_t groups) {
  for (int32_t j = 0, p = 0; j < out_row; j += 64, p = p + 1 == phases ? 0 : p + 1) {
    const dwf_phase *f = &ph[p];
    const uint8_t *x = set + j;
    __m512i a0 = f->bias[0], a1 = f->bias[1], a2 = f->bias[2], a3 = f->bias[3];
    for (int32_t g = 0; g < groups; g++) {
      const __m512i x0 = _mm512_loadu_si512(x + tap_at[4 * g]), x1 = _mm512_loadu_si512(x + tap_at[4 * g + 1]);
      const __m512i x2 = _mm512_loadu_si512(x + tap_at[4 * g + 2]), x3 = _mm512_loadu_si512(x + tap_at[4 * g + 3]);
      const __m512i lo01 = _mm512_unpacklo_epi8(x0, x1), hi01 = _mm512_unpackhi_epi8(x0, x1);
      const __m512i lo23 = _mm512_unpacklo_epi8(x2, x3), hi23 = _mm512_unpackhi_epi8(x2, x3);
      a0 = _mm512_dpbusd_epi32(a0, _mm512_unpacklo_epi16(lo01, lo23), f->w[g][0]);
      a1 = _mm512_dpbusd_epi32(a1, _mm512_unpackhi_epi16(lo01, lo23), f->w[g][1]);
      a2 = _mm512_dpbusd_epi32(a2, _mm512_unpacklo_epi16(hi01, hi23), f->w[g][2]);
      a3 = _mm512_dpbusd_epi32(a3, _mm512_unpackhi_epi16(hi01, hi23), f->w[g][3]);
    }
    const __m512i r0 = es_s8_requant16_apply(&f->q[0], a0), r1 = es_s8_requant16_apply(&f->q[1], a1);
    const __m512i r2 = es_s8_requant16_apply(&f->q[2], a2), r3 = es_s8_requant16_apply(&f->q[3], a3);
    const __m512i bytes = _mm512_packs_epi16(_mm512_packs_epi32(r0, r1), _mm512_packs_epi32(r2, r3));
    const __mmask64 m = out_row - j >= 64 ? ~(__mmask64)0 : ((__mmask64)1 << (out_row - j)) - 1;
    _mm512_mask_storeu_epi8(out_r + j, m, bytes);
  }
}

/* The weights, folded bias and requantization constants of each phase, made into `room`, or
 * once per pack slot (kernels_int8.h) into the heap and kept. */
typedef struct {
  int32_t C, taps;
  dwf_phase ph[];
} dwf_packed;

static dwf_packed *dwf_cache[ES_S8_PACK_SLOTS + 1];

static void dwf_make(dwf_phase *ph, const int8_t *weights, const int32_t *bias, const int32_t *mult, const int8_t *shift,
                     int32_t C, int32_t taps, int32_t phases, const es_s8_output *o) {
  const int32_t groups = (taps + 3) / 4;
  /* Per channel: 4 taps' weights of each group as one 32-bit word, and the bias less 128 *
   * the weight sum (C <= 64 * DWF_PHASES). */
  int32_t words[DWF_GROUPS][64 * DWF_PHASES], folded[64 * DWF_PHASES], shifts[64 * DWF_PHASES];
  for (int32_t c = 0; c < C; c++) {
    int32_t sum = 0;
    shifts[c] = shift[c];
    for (int32_t t = 0; t < taps; t++) sum += weights[(size_t)t * C + c];
    folded[c] = (bias ? bias[c] : 0) - 128 * sum;
    for (int32_t g = 0; g < groups; g++) {
      uint8_t word[4];
      for (int32_t j = 0; j < 4; j++) word[j] = 4 * g + j < taps ? (uint8_t)weights[(size_t)(4 * g + j) * C + c] : 0;
      memcpy(&words[g][c], word, 4);
    }
  }
  /* lane (128-bit lane L, dword i) of vector v holds output byte 16 L + 4 v + i of a chunk */
  for (int32_t p = 0; p < phases; p++)
    for (int32_t v = 0; v < 4; v++) {
      int32_t idx[16];
      for (int32_t lane = 0; lane < 16; lane++) idx[lane] = (64 * p + 16 * (lane / 4) + 4 * v + lane % 4) % C;
      const __m512i at = _mm512_loadu_si512(idx);
      ph[p].bias[v] = _mm512_i32gather_epi32(at, folded, 4);
      ph[p].q[v] = es_s8_requant16_make(_mm512_i32gather_epi32(at, mult, 4), _mm512_i32gather_epi32(at, shifts, 4), o);
      for (int32_t g = 0; g < groups; g++) ph[p].w[g][v] = _mm512_i32gather_epi32(at, words[g], 4);
    }
}

static const dwf_phase *dwf_phases(dwf_phase *room, const int8_t *weights, const int32_t *bias, const int32_t *mult,
                                   const int8_t *shift, int32_t C, int32_t taps, int32_t phases, const es_s8_output *o,
                                   int32_t slot) {
  if (slot > 0 && slot <= ES_S8_PACK_SLOTS) {
    dwf_packed *p = dwf_cache[slot];
    if (p) {
      if (p->C == C && p->taps == taps) return p->ph;
    } else if ((p = aligned_alloc(64, (sizeof(dwf_packed) + 63) / 64 * 64 + sizeof(dwf_phase) * (size_t)phases))) {
      /* ph[] starts 64 bytes in: the header is padded by the struct's alignment */
      p->C = C, p->taps = taps;
      dwf_make(p->ph, weights, bias, mult, shift, C, taps, phases, o);
      dwf_cache[slot] = p;
      return p->ph;
    }
  }
  dwf_make(room, weights, bias, mult, shift, C, taps, phases, o);
  return room;
}

/* Returns 0 (nothing done) where the shape is not for this path. */
static int dw_flat_rows(const int8_t *in, es_shape4 is, int32_t in_zp, const int8_t *weights, const int32_t *bias,
                        int8_t *out, es_shape4 os, int32_t kh, int32_t kw, int32_t stride_h, int32_t stride_w,
                        int32_t pad_top, int32_t pad_left, int32_t dilation_h, int32_t dilation_w, const int32_t *mult,
                        const int8_t *shift, const es_s8_output *o, int32_t pack_slot) {
  const int32_t C = os.c, taps = kh * kw, groups = (taps + 3) / 4, phases = C / dwf_gcd(C, 64);
  const int32_t span = ((os.w - 1) + (kw - 1) * dilation_w + 1) * C; /* padded row bytes read */
  const int32_t row_stride = (span + 128 + 63) / 64 * 64, out_row = os.w * C; /* room for the stores past span + 64 */
  /* (and a few pixels per phase where the constants are made per call: no pack slot) */
  if (stride_w != 1 || groups > DWF_GROUPS || phases > DWF_PHASES || (int64_t)2 * kh * row_stride > DWF_ROW_BYTES ||
      (os.h * os.w < 4 * phases && pack_slot <= 0))
    return 0;
  dwf_phase room[DWF_PHASES];
  uint8_t rows[DWF_ROW_BYTES] __attribute__((aligned(64)));
  ptrdiff_t tap_at[4 * DWF_GROUPS]; /* tap t's bytes in a set of padded rows (t >= taps: weights 0) */
  for (int32_t t = 0; t < 4 * groups; t++) tap_at[t] = t < taps ? (ptrdiff_t)(t / kw) * row_stride + t % kw * dilation_w * C : 0;
  const dwf_phase *ph = dwf_phases(room, weights, bias, mult, shift, C, taps, phases, o, pack_slot);
  /* padded byte in_lo is the input row's first byte; in_hi is where the input ends */
  const int32_t in_lo = pad_left * C, in_hi = (is.w + pad_left) * C < span ? (is.w + pad_left) * C : span;
  for (int32_t b = 0; b < os.n; b++) {
    const int8_t *in_b = in + (size_t)b * is.h * is.w * C;
    /* The kh padded rows of output row oy, in set oy % 2: built one output row ahead, so
     * that the loads read stores made a row earlier; each padded for the 64 bytes past the
     * span that the last chunk reads. */
    for (int32_t oy = 0; oy <= os.h; oy++) {
      for (int32_t ky = 0; oy < os.h && ky < kh; ky++) {
        const int32_t iy = oy * stride_h - pad_top + ky * dilation_h, inside = iy >= 0 && iy < is.h;
        es_s8_flip_pad_row(rows + (size_t)((oy & 1) * kh + ky) * row_stride, span + 64, inside ? in_lo : 0,
                           inside ? in_hi : 0, inside ? in_b + (size_t)iy * is.w * C : NULL, (int8_t)in_zp);
      }
      if (oy == 0) continue;
      const uint8_t *set = rows + (size_t)((oy - 1) & 1) * kh * row_stride;
      int8_t *out_r = out + (((size_t)b * os.h + oy - 1) * os.w) * C;
      if (groups == 3) dwf_row(ph, phases, set, tap_at, out_r, out_row, 3);
      else dwf_row(ph, phases, set, tap_at, out_r, out_row, groups);
    }
  }
  return 1;
}

#undef DW_LOAD
#define DW_MASKED_TAIL 1 /* the blocks take the channels past the last whole one too */

#elif defined(ES_S8_AVX2)

/* 8 channels per block: two taps' int8 values interleaved (vpunpcklbw) and widened to int16
 * (vpmovsxbw), against the two taps' weights the same way; vpmaddwd adds each channel's two
 * products into its int32 lane. */
#define DW_BLOCK 8

typedef struct {
  __m256i v;
} dw_acc;

/* Taps t and t + 1 (or t alone with a zero) of 8 channels, interleaved and widened. */
ES_S8_INLINE __m256i dw_pair(__m128i first, __m128i second) {
  return _mm256_cvtepi8_epi16(_mm_unpacklo_epi8(first, second));
}
#define DW_LOAD8(p) _mm_loadl_epi64((const __m128i *)(const void *)(p))

static inline __attribute__((always_inline)) void dw_block(const dw_args *d, const int8_t *const *src, int32_t t0,
                                                           int32_t taps, int32_t c, dw_acc *a, const int padded) {
  const __m128i zp = _mm_set1_epi8((char)d->in_zp), zero = _mm_setzero_si128();
  const size_t channels = (size_t)d->channels;
  const int8_t *w = d->w + (size_t)t0 * channels + c;
  __m256i acc = a->v;
  int32_t t = 0;
  for (; t + 2 <= taps; t += 2, w += 2 * channels) {
    const __m128i x0 = !padded || src[t] ? DW_LOAD8(src[t] + c) : zp;
    const __m128i x1 = !padded || src[t + 1] ? DW_LOAD8(src[t + 1] + c) : zp;
    acc = _mm256_add_epi32(acc, _mm256_madd_epi16(dw_pair(x0, x1), dw_pair(DW_LOAD8(w), DW_LOAD8(w + channels))));
  }
  if (t < taps) {
    const __m128i x0 = !padded || src[t] ? DW_LOAD8(src[t] + c) : zp;
    acc = _mm256_add_epi32(acc, _mm256_madd_epi16(dw_pair(x0, zero), dw_pair(DW_LOAD8(w), zero)));
  }
  a->v = acc;
}

static inline dw_acc dw_acc_start(const dw_args *d, int32_t c) {
  dw_acc a = {d->bias ? _mm256_loadu_si256((const __m256i *)(d->bias + c)) : _mm256_setzero_si256()};
  return a;
}

static inline es_s8_requant8_consts dw_requant(const dw_args *d, int32_t c) {
  return es_s8_requant8_make(_mm256_loadu_si256((const __m256i *)(d->mult + c)), _mm256_cvtepi8_epi32(DW_LOAD8(d->shift + c)),
                             &d->o);
}

static inline void dw_acc_store(const dw_args *d, const dw_acc *a, int32_t c, int8_t *out) {
  const es_s8_requant8_consts q = dw_requant(d, c);
  _mm_storel_epi64((__m128i *)(void *)(out + c), es_s8_bytes8(es_s8_requant8(&q, a->v)));
}

/* As the NEON interior_3x3, 8 channels per block: the 9 weights as 5 interleaved pairs
 * (the last with zero) stay in registers while the pixels go by. */
static void interior_3x3(const dw_args *d, const int8_t *const rows[3], int32_t x0, int32_t count, int32_t step,
                         int32_t dx, int8_t *out) {
  const size_t channels = (size_t)d->channels, tap_dx = (size_t)dx * channels;
  const __m128i zero = _mm_setzero_si128();
  for (int32_t c = 0; c + 8 <= d->channels; c += 8) {
    const int8_t *w = d->w + c;
    __m128i wb[9];
    for (int t = 0; t < 9; t++) wb[t] = DW_LOAD8(w + (size_t)t * channels);
    const __m256i w01 = dw_pair(wb[0], wb[1]), w23 = dw_pair(wb[2], wb[3]), w45 = dw_pair(wb[4], wb[5]);
    const __m256i w67 = dw_pair(wb[6], wb[7]), w8 = dw_pair(wb[8], zero);
    const es_s8_requant8_consts q = dw_requant(d, c);
    const __m256i bias = d->bias ? _mm256_loadu_si256((const __m256i *)(d->bias + c)) : _mm256_setzero_si256();
    for (int32_t i = 0; i < count; i++) {
      const size_t at = (size_t)(x0 + i * step) * channels + (size_t)c;
      const int8_t *p0 = rows[0] + at, *p1 = rows[1] + at, *p2 = rows[2] + at;
      __m256i acc = _mm256_add_epi32(bias, _mm256_madd_epi16(dw_pair(DW_LOAD8(p0), DW_LOAD8(p0 + tap_dx)), w01));
      acc = _mm256_add_epi32(acc, _mm256_madd_epi16(dw_pair(DW_LOAD8(p0 + 2 * tap_dx), DW_LOAD8(p1)), w23));
      acc = _mm256_add_epi32(acc, _mm256_madd_epi16(dw_pair(DW_LOAD8(p1 + tap_dx), DW_LOAD8(p1 + 2 * tap_dx)), w45));
      acc = _mm256_add_epi32(acc, _mm256_madd_epi16(dw_pair(DW_LOAD8(p2), DW_LOAD8(p2 + tap_dx)), w67));
      acc = _mm256_add_epi32(acc, _mm256_madd_epi16(dw_pair(DW_LOAD8(p2 + 2 * tap_dx), zero), w8));
      _mm_storel_epi64((__m128i *)(void *)(out + (size_t)i * channels + c), es_s8_bytes8(es_s8_requant8(&q, acc)));
    }
  }
}

#else

typedef struct {
  int32_t v[16];
} dw_acc;

static inline void dw_block(const dw_args *d, const int8_t *const *src, int32_t t0, int32_t taps, int32_t c, dw_acc *a,
                           const int padded) {
  (void)padded;
  portable_channels(d, src, t0, taps, c, 16, a->v);
}

static inline dw_acc dw_acc_start(const dw_args *d, int32_t c) {
  dw_acc a;
  for (int i = 0; i < 16; i++) a.v[i] = d->bias ? d->bias[c + i] : 0;
  return a;
}

static inline void dw_acc_store(const dw_args *d, const dw_acc *a, int32_t c, int8_t *out) {
  for (int i = 0; i < 16; i++)
    out[c + i] = es_clamp_to_s8(d->o.out_zp + es_requantize(a->v[i], d->mult[c + i], d->shift[c + i]), d->o.act_min, d->o.act_max);
}


#endif

#ifndef DW_BLOCK
#define DW_BLOCK 16 /* channels per dw_block */
#endif

/* The input pointers of taps [t0, t0 + n) of output pixel (oy, ox), NULL for padding;
 * returns how many are padding. */
static int32_t find_taps(const int8_t *in_b, es_shape4 is, int32_t oy, int32_t ox, int32_t kw, int32_t stride_h,
                      int32_t stride_w, int32_t pad_top, int32_t pad_left, int32_t dilation_h, int32_t dilation_w,
                      int32_t t0, int32_t n, const int8_t **src) {
  int32_t ky = t0 / kw, kx = t0 % kw, padded = 0;
  for (int32_t t = 0; t < n; t++) {
    const int32_t iy = oy * stride_h - pad_top + ky * dilation_h, ix = ox * stride_w - pad_left + kx * dilation_w;
    const int outside = iy < 0 || iy >= is.h || ix < 0 || ix >= is.w;
    src[t] = outside ? NULL : in_b + ((size_t)iy * is.w + ix) * is.c;
    padded += outside;
    if (++kx == kw) kx = 0, ky++;
  }
  return padded;
}

void es_conv2d_depthwise_s8(const int8_t *in, es_shape4 is, int32_t in_zp, const int8_t *weights,
                            const int32_t *bias, int8_t *out, es_shape4 os, int32_t kh,
                            int32_t kw, int32_t stride_h, int32_t stride_w, int32_t pad_top,
                            int32_t pad_left, int32_t dilation_h, int32_t dilation_w,
                            int32_t out_zp, const int32_t *mult, const int8_t *shift,
                            int32_t act_min, int32_t act_max, int32_t pack_slot) {
  const int32_t channels = os.c, taps = kh * kw;
  (void)pack_slot; /* used by the VNNI flat rows only */
#if defined(ES_S8_VNNI)
  if (dw_flat_rows(in, is, in_zp, weights, bias, out, os, kh, kw, stride_h, stride_w, pad_top, pad_left, dilation_h,
                   dilation_w, mult, shift, &(es_s8_output){out_zp, act_min, act_max}, pack_slot))
    return;
  es_s8_requant16_consts q[DW_QBLOCKS];
  dw_args d = {weights, bias, mult, shift, channels, in_zp, {out_zp, act_min, act_max}, q};
  for (int32_t c = 0; c < channels && c / 16 < DW_QBLOCKS; c += 16) q[c / 16] = dw_requant(&d, c);
#else
  const dw_args d = {weights, bias, mult, shift, channels, in_zp, {out_zp, act_min, act_max}};
#endif
#ifdef DW_MASKED_TAIL
  const int32_t vec_end = channels;
#else
  const int32_t vec_end = channels / DW_BLOCK * DW_BLOCK;
#endif
  const int one_pass = taps <= MAX_TAPS;
  const int8_t *src[MAX_TAPS];
#if defined(ES_S8_NEON) || defined(ES_S8_VNNI) || defined(ES_S8_AVX2)
  /* Output columns [x_lo, x_hi) have 3x3 windows inside the input horizontally. */
  const int fast_3x3 = kh == 3 && kw == 3 && vec_end == channels;
  int32_t x_lo = (pad_left + stride_w - 1) / stride_w, x_hi = (is.w - 1 - 2 * dilation_w + pad_left) / stride_w + 1;
  if (is.w - 1 - 2 * dilation_w + pad_left < 0) x_hi = 0;
  x_hi = x_hi > os.w ? os.w : x_hi;
  if (x_lo > x_hi) x_lo = x_hi;
#endif
#define TAPS(t0, n) find_taps(in_b, is, oy, ox, kw, stride_h, stride_w, pad_top, pad_left, dilation_h, dilation_w, t0, n, src)
  for (int32_t b = 0; b < os.n; b++) {
    const int8_t *in_b = in + (size_t)b * is.h * is.w * is.c;
    for (int32_t oy = 0; oy < os.h; oy++) {
      int8_t *out_row = out + ((size_t)b * os.h + oy) * os.w * channels;
      int32_t skip_lo = os.w, skip_hi = os.w; /* columns done by interior_3x3 */
#if defined(ES_S8_NEON) || defined(ES_S8_VNNI) || defined(ES_S8_AVX2)
      const int32_t iy = oy * stride_h - pad_top;
      if (fast_3x3 && iy >= 0 && iy + 2 * dilation_h < is.h && x_lo < x_hi) {
        const int8_t *rows[3];
        for (int ky = 0; ky < 3; ky++) rows[ky] = in_b + (size_t)(iy + ky * dilation_h) * is.w * is.c;
        interior_3x3(&d, rows, x_lo * stride_w - pad_left, x_hi - x_lo, stride_w, dilation_w, out_row + (size_t)x_lo * channels);
        skip_lo = x_lo, skip_hi = x_hi;
      }
#endif
      for (int32_t ox = 0; ox < os.w; ox++) {
        if (ox == skip_lo) ox = skip_hi;
        if (ox >= os.w) break;
        int8_t *o = out_row + (size_t)ox * channels;
        const int32_t padded = one_pass ? TAPS(0, taps) : 1;
        for (int32_t c = 0; c < vec_end; c += DW_BLOCK) {
          dw_acc a = dw_acc_start(&d, c);
          if (one_pass && !padded) {
            dw_block(&d, src, 0, taps, c, &a, 0);
          } else if (one_pass) {
            dw_block(&d, src, 0, taps, c, &a, 1);
          } else {
            for (int32_t t0 = 0; t0 < taps; t0 += MAX_TAPS) {
              const int32_t n = taps - t0 < MAX_TAPS ? taps - t0 : MAX_TAPS;
              TAPS(t0, n);
              dw_block(&d, src, t0, n, c, &a, 1);
            }
          }
          dw_acc_store(&d, &a, c, o);
        }
        int32_t c_rest = vec_end;
#if defined(ES_S8_NEON)
        if (one_pass && channels - vec_end >= 8) {
          acc8_run(&d, src, taps, vec_end, o);
          c_rest = vec_end + 8;
        }
#endif
        for (int32_t c = c_rest; c < channels; c++) {
          int32_t acc = bias ? bias[c] : 0;
          for (int32_t t0 = 0; t0 < taps; t0 += MAX_TAPS) {
            const int32_t n = taps - t0 < MAX_TAPS ? taps - t0 : MAX_TAPS;
            if (!one_pass) TAPS(t0, n);
            portable_channels(&d, src, t0, n, c, 1, &acc);
          }
          o[c] = es_clamp_to_s8(out_zp + es_requantize(acc, mult[c], shift[c]), act_min, act_max);
        }
      }
    }
  }
#undef TAPS
}
