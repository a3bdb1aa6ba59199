/* The AVX-512 VNNI path of es_gemm_s8 and es_conv2d_s8 for reductions up to PANEL_KMAX
 * (not part of the kernel API; x86 hosts built with -march=native).
 *
 * The 4 x 4 dot-product tile of tile_s8.h wastes most of a 64-byte vector when K is small
 * (MobileNetV2's K of 16 to 32) and pays a shuffle tree per tile. Here sets of panels of 32
 * output columns' weights [K/4][32][4] are packed (on the stack per call, or once per pack
 * slot into the heap), so one 64-byte load holds 4 reduction steps of 16 columns; each row,
 * its sign bits flipped once (unsigned for vpdpbusd), broadcasts 4 bytes from memory and
 * vpdpbusd accumulates 16 columns at once. 8 rows x 32 columns stay in 16 registers over the
 * whole of K, and each row's 32 sums are requantized as two vectors with no horizontal
 * reduction. */
#ifndef EDGESPEC_INT8_PANEL_VNNI_H
#define EDGESPEC_INT8_PANEL_VNNI_H

#include <stdlib.h>

#include "requant_s8.h"

#if defined(ES_S8_VNNI)

enum {
  PANEL_N = 32,                     /* output columns per panel */
  PANEL_KMAX = 2048,                /* longest reduction packed */
  PANEL_MR = 8,                     /* rows per register block */
  PANEL_MIN_ROWS = 8,               /* fewer rows do not pay for the packing: tile_s8.h instead */
  PANEL_SET_BYTES = 1 << 17,        /* packed weights of the panels that one block of rows meets */
  PANEL_SET_MAX = 8,                /* panels per set */
  PANEL_ROW_BYTES = PANEL_KMAX + 64 /* a flipped row's stride: written 64 bytes at a time */
};

typedef struct {
  int32_t bias[PANEL_N] __attribute__((aligned(64))), mult[PANEL_N] __attribute__((aligned(64)));
  int32_t shift[PANEL_N] __attribute__((aligned(64)));
} es_s8_panel_consts;

/* Up to PANEL_SET_MAX panels of PANEL_N columns, each [k4][PANEL_N][4] (k4 = k / 4 rounded
 * up) at w + panel * k4 * PANEL_N * 4, with their bias less 128 * the column's weight sum,
 * mult and shift (c[panel]); missing columns and the bytes past k are zero. */
typedef struct {
  const int8_t *w;
  const es_s8_panel_consts *c;
  int32_t k4, cols;
} es_s8_panel_set;

/* Room for one set packed on the stack. */
typedef struct {
  int8_t w[PANEL_SET_BYTES] __attribute__((aligned(64)));
  es_s8_panel_consts c[PANEL_SET_MAX];
} es_s8_panel_room;

/* Columns one set holds for a reduction of k (<= PANEL_KMAX): a multiple of PANEL_N. */
static inline int32_t es_s8_panel_set_columns(int32_t k) {
  const int32_t panels = PANEL_SET_BYTES / (((k + 3) / 4) * PANEL_N * 4);
  return (panels < PANEL_SET_MAX ? panels : PANEL_SET_MAX) * PANEL_N;
}

/* r[i] = dword i of each of r[0..16) (a 16 x 16 transpose of 32-bit lanes). */
static inline void es_s8_transpose16_epi32(__m512i r[16]) {
  __m512i t[16];
  for (int i = 0; i < 16; i += 2) {
    t[i] = _mm512_unpacklo_epi32(r[i], r[i + 1]);
    t[i + 1] = _mm512_unpackhi_epi32(r[i], r[i + 1]);
  }
  for (int i = 0; i < 16; i += 4) {
    r[i] = _mm512_unpacklo_epi64(t[i], t[i + 2]);
    r[i + 1] = _mm512_unpackhi_epi64(t[i], t[i + 2]);
    r[i + 2] = _mm512_unpacklo_epi64(t[i + 1], t[i + 3]);
    r[i + 3] = _mm512_unpackhi_epi64(t[i + 1], t[i + 3]);
  }
  /* r[4b + c] now holds dword c of rows 4b..4b+3 in each 128-bit lane */
  for (int i = 0; i < 4; i++) {
    t[i] = _mm512_shuffle_i32x4(r[i], r[i + 4], 0x88);
    t[i + 4] = _mm512_shuffle_i32x4(r[i], r[i + 4], 0xdd);
    t[i + 8] = _mm512_shuffle_i32x4(r[i + 8], r[i + 12], 0x88);
    t[i + 12] = _mm512_shuffle_i32x4(r[i + 8], r[i + 12], 0xdd);
  }
  for (int i = 0; i < 4; i++) {
    r[i] = _mm512_shuffle_i32x4(t[i], t[i + 8], 0x88);
    r[i + 8] = _mm512_shuffle_i32x4(t[i], t[i + 8], 0xdd);
    r[i + 4] = _mm512_shuffle_i32x4(t[i + 4], t[i + 12], 0x88);
    r[i + 12] = _mm512_shuffle_i32x4(t[i + 4], t[i + 12], 0xdd);
  }
}

/* Columns [n0, n0 + cols) of weights [N][k], each row k / seg_len segments of seg_len
 * bytes, every segment zero-padded to a multiple of 4 (so that rows can be read a segment
 * at a time from anywhere: es_s8_panel_rows_seg_h); seg_len = k for plain rows. cols <=
 * es_s8_panel_set_columns of the packed length. 16 columns' 16 steps at a time: 16 row
 * loads transposed as dwords (packing one dword at a time was two thirds of a 9-row GEMM),
 * and the column sums from vpdpbusd with ones. */
static inline es_s8_panel_set es_s8_panel_pack(int8_t *packed, es_s8_panel_consts *consts, const int8_t *weights, int32_t k,
                                               int32_t seg_len, int32_t n0, int32_t cols, const int32_t *bias,
                                               const int32_t *mult, const int8_t *shift) {
  const int32_t nseg = k / seg_len, qs = (seg_len + 3) / 4, k4 = nseg * qs;
  const int32_t panels = (cols + PANEL_N - 1) / PANEL_N;
  const __m512i ones = _mm512_set1_epi8(1);
  for (int32_t pi = 0; pi < panels; pi++) {
    int8_t *w = packed + (size_t)pi * k4 * PANEL_N * 4;
    es_s8_panel_consts *c = &consts[pi];
    for (int32_t h = 0; h < 2; h++) {
      const int32_t j0 = pi * PANEL_N + 16 * h; /* first column of the 16 */
      __m512i sum = _mm512_setzero_si512();
      for (int32_t g = 0; g < nseg; g++)
        for (int32_t q0 = 0; q0 < qs; q0 += 16) {
          const int32_t bytes = seg_len - 4 * q0 < 64 ? seg_len - 4 * q0 : 64;
          const __mmask64 m = bytes >= 64 ? ~(__mmask64)0 : ((__mmask64)1 << bytes) - 1;
          __m512i r[16];
          for (int32_t jj = 0; jj < 16; jj++)
            r[jj] = j0 + jj < cols ? _mm512_maskz_loadu_epi8(m, weights + (size_t)(n0 + j0 + jj) * k + (size_t)g * seg_len + 4 * q0)
                                   : _mm512_setzero_si512();
          es_s8_transpose16_epi32(r);
          for (int32_t i = 0; i < 16 && q0 + i < qs; i++) {
            _mm512_store_si512(w + ((size_t)(g * qs + q0 + i) * PANEL_N + 16 * h) * 4, r[i]);
            sum = _mm512_dpbusd_epi32(sum, ones, r[i]);
          }
        }
      int32_t sums[16];
      _mm512_storeu_si512(sums, sum);
      for (int32_t jj = 0; jj < 16; jj++) {
        const int32_t col = j0 + jj;
        const int in = col < cols;
        c->bias[16 * h + jj] = in ? (bias ? bias[n0 + col] : 0) - 128 * sums[jj] : 0;
        c->mult[16 * h + jj] = in ? mult[n0 + col] : 0;
        c->shift[16 * h + jj] = in ? shift[n0 + col] : 0;
      }
    }
  }
  const es_s8_panel_set set = {packed, consts, k4, cols};
  return set;
}

/* The set of group g (its ocg columns and weights, [g * ocg, (g + 1) * ocg) of the call's)
 * that starts at column n0 and holds at most per_set columns. */
static inline es_s8_panel_set es_s8_panel_pack_group(int8_t *packed, es_s8_panel_consts *consts, const int8_t *weights,
                                                     int32_t k, int32_t seg_len, int32_t ocg, int32_t g, int32_t n0,
                                                     int32_t per_set, const int32_t *bias, const int32_t *mult,
                                                     const int8_t *shift) {
  return es_s8_panel_pack(packed, consts, weights + (size_t)g * ocg * k, k, seg_len, n0, ocg - n0 < per_set ? ocg - n0 : per_set,
                          bias ? bias + g * ocg : NULL, mult + g * ocg, shift + g * ocg);
}

/* The sets of a call, packed once: its weights, bias, mult and shift are constants of the
 * image (a pack slot from the build, kernels_int8.h), so they stay packed for every later
 * call, as XNNPACK packs a model's weights when it is loaded. */
typedef struct {
  int32_t k, seg_len, groups, ocg, chunks;
  es_s8_panel_set set[]; /* groups x chunks */
} es_s8_packed;

static es_s8_packed *es_s8_pack_cache[ES_S8_PACK_SLOTS + 1] __attribute__((unused));

/* The call's sets from slot `slot`, packed on its first call; NULL where there is no slot (0)
 * or no memory for it (the caller packs each set on the stack then). */
static __attribute__((unused, noinline)) const es_s8_packed *es_s8_panel_cache(int32_t slot, const int8_t *weights, int32_t k, int32_t seg_len,
                                                                           int32_t groups, int32_t ocg, const int32_t *bias,
                                                                           const int32_t *mult, const int8_t *shift) {
  if (slot <= 0 || slot > ES_S8_PACK_SLOTS) return NULL;
  es_s8_packed *p = es_s8_pack_cache[slot];
  if (p) return p->k == k && p->seg_len == seg_len && p->groups == groups && p->ocg == ocg ? p : NULL;
  const int32_t k4 = k / seg_len * ((seg_len + 3) / 4), per_set = es_s8_panel_set_columns(4 * k4);
  const int32_t chunks = (ocg + per_set - 1) / per_set, panels = (ocg + PANEL_N - 1) / PANEL_N;
  const size_t head = (sizeof(es_s8_packed) + sizeof(es_s8_panel_set) * (size_t)groups * chunks + 63) / 64 * 64;
  const size_t bytes = head + (size_t)groups * panels * ((size_t)k4 * PANEL_N * 4 + sizeof(es_s8_panel_consts));
  p = aligned_alloc(64, (bytes + 63) / 64 * 64);
  if (!p) return NULL;
  p->k = k, p->seg_len = seg_len, p->groups = groups, p->ocg = ocg, p->chunks = chunks;
  uint8_t *at = (uint8_t *)p + head;
  for (int32_t g = 0; g < groups; g++)
    for (int32_t i = 0; i < chunks; i++) {
      const int32_t n0 = i * per_set, cols = ocg - n0 < per_set ? ocg - n0 : per_set, np = (cols + PANEL_N - 1) / PANEL_N;
      int8_t *w = (int8_t *)at;
      es_s8_panel_consts *c = (es_s8_panel_consts *)(at + (size_t)np * k4 * PANEL_N * 4);
      p->set[g * chunks + i] = es_s8_panel_pack_group(w, c, weights, k, seg_len, ocg, g, n0, per_set, bias, mult, shift);
      at += (size_t)np * ((size_t)k4 * PANEL_N * 4 + sizeof(es_s8_panel_consts));
    }
  es_s8_pack_cache[slot] = p;
  return p;
}

/* n bytes of src with their sign bits flipped (int8 x -> uint8 x + 128), the form vpdpbusd
 * multiplies as unsigned; done once per gathered row rather than per broadcast. Whole
 * 64-byte stores: up to 63 bytes past dst + n are overwritten (callers leave room), since
 * a masked store does not forward to the broadcasts that read the row next. src is read
 * past n only where that stays before src_end. */
static inline void es_s8_flip_copy(uint8_t *dst, const int8_t *src, int32_t n, const int8_t *src_end) {
  const __m512i sign = _mm512_set1_epi8((char)0x80);
  for (; n >= 64; n -= 64, dst += 64, src += 64) _mm512_storeu_si512(dst, _mm512_xor_si512(_mm512_loadu_si512(src), sign));
  if (n > 0) {
    const __m512i v = src_end - src >= 64 ? _mm512_loadu_si512(src) : _mm512_maskz_loadu_epi8(((__mmask64)1 << n) - 1, src);
    _mm512_storeu_si512(dst, _mm512_xor_si512(v, sign));
  }
}

/* n bytes of the flipped form of `value` (whole 64-byte stores, as es_s8_flip_copy). */
static inline void es_s8_flip_fill(uint8_t *dst, int8_t value, int32_t n) {
  const __m512i v = _mm512_set1_epi8((char)(value ^ 0x80));
  for (; n > 0; n -= 64, dst += 64) _mm512_storeu_si512(dst, v);
}

/* A padded row of len bytes, flipped: bytes [lo, hi) from src (the input byte of byte lo),
 * the rest the flipped `zp` (all of them when hi <= lo). The padding goes in whole 64-byte
 * stores (up to 63 bytes past len are overwritten: callers leave room), the input part
 * after the padding before it, in masked stores that end where it ends (the depthwise rows,
 * built one output row ahead, were 2-5 % slower when whole stores ran past it). */
static inline void es_s8_flip_pad_row(uint8_t *row, int32_t len, int32_t lo, int32_t hi, const int8_t *src, int8_t zp) {
  const __m512i pad = _mm512_set1_epi8((char)(zp ^ 0x80)), sign = _mm512_set1_epi8((char)0x80);
  if (hi <= lo) lo = hi = len;
  for (int32_t j = 0; j < lo; j += 64) _mm512_storeu_si512(row + j, pad);
  for (int32_t j = lo; j < hi; j += 64) {
    const __mmask64 m = hi - j >= 64 ? ~(__mmask64)0 : ((__mmask64)1 << (hi - j)) - 1;
    _mm512_mask_storeu_epi8(row + j, m, _mm512_xor_si512(_mm512_maskz_loadu_epi8(m, src + (j - lo)), sign));
  }
  for (int32_t j = hi; j < len; j += 64) _mm512_storeu_si512(row + j, pad);
}

/* Requantizes PANEL_MR rows of 16 * halves accumulators (halves 0: the low 8 lanes of each
 * row's first) into out[r * ldo + j], j < cols, r < nrows. */
static inline __attribute__((always_inline)) void es_s8_panel_store_h(const es_s8_panel_consts *c, int32_t cols,
                                                                      const __m512i acc[PANEL_MR][2], int32_t nrows,
                                                                      const es_s8_output *o, int8_t *out, ptrdiff_t ldo,
                                                                      const int halves) {
  const __mmask32 store = cols >= 32 ? ~(__mmask32)0 : (((__mmask32)1 << cols) - 1);
  if (halves <= 1 && cols <= 8) {
    /* Two rows' 8 lanes per requantized vector: half the requantization, which is most of
     * the work when the reduction is short (a 3-channel first layer). */
    const __m512i mult = _mm512_load_si512(c->mult), shift = _mm512_load_si512(c->shift);
    const __m512i bias = _mm512_load_si512(c->bias);
    const es_s8_requant16_consts q = es_s8_requant16_make(_mm512_shuffle_i64x2(mult, mult, 0x44),
                                                          _mm512_shuffle_i64x2(shift, shift, 0x44), o);
    const __m512i bias2 = _mm512_shuffle_i64x2(bias, bias, 0x44);
    for (int32_t r = 0; r < PANEL_MR; r += 2) {
      if (r >= nrows) break;
      const __m512i pair = _mm512_shuffle_i64x2(acc[r][0], acc[r + 1][0], 0x44);
      const __m128i y = _mm512_cvtepi32_epi8(es_s8_requant16_apply(&q, _mm512_add_epi32(pair, bias2)));
      _mm_mask_storeu_epi8(out + r * ldo, (__mmask16)store, y);
      if (r + 1 < nrows) _mm_mask_storeu_epi8(out + (r + 1) * ldo - 8, (__mmask16)(store << 8), y);
    }
    return;
  }
  for (int32_t h = 0; h < halves; h++) {
    const es_s8_requant16_consts q = es_s8_requant16_make(_mm512_load_si512(c->mult + 16 * h), _mm512_load_si512(c->shift + 16 * h), o);
    const __m512i bias = _mm512_load_si512(c->bias + 16 * h);
    for (int32_t r = 0; r < PANEL_MR; r++) {
      if (r >= nrows) break;
      const __m512i y = es_s8_requant16_apply(&q, _mm512_add_epi32(acc[r][h], bias));
      _mm_mask_storeu_epi8(out + r * ldo + 16 * h, (__mmask16)(store >> (16 * h)), _mm512_cvtepi32_epi8(y));
    }
  }
}

/* mr (a constant: 8, 4 or 1) rows given as pointers (rows past `nrows` are computed and not
 * stored: point them at a valid row), read in nseg segments of qs 4-byte steps at a[r] +
 * seg_off[s] (the panel packed with es_s8_panel_pack's segments; one segment for plain
 * rows, several for a convolution's patch rows read in place from a padded copy of its
 * input), already flipped or (flip) flipped here, times one panel's first 16 * halves
 * columns (halves a constant: 1 when the panel holds at most 16, so that nothing is computed
 * for the empty half; 0 for at most 8, in 256-bit vectors), requantized into out[r * ldo + j]
 * for j < cols. Each 4-byte step of a flipped row is one broadcast from memory feeding one or
 * two vpdpbusd. Named accumulators:
 * GCC 12 keeps an array of them in registers only by copying each one to another register
 * around every vpdpbusd (three instructions where one does). */
static inline __attribute__((always_inline)) void es_s8_panel_rows_seg_h(const int8_t *w, const es_s8_panel_consts *c,
                                                                         int32_t cols, const uint8_t *const a[PANEL_MR],
                                                                         const ptrdiff_t *seg_off, int32_t nseg, int32_t qs,
                                                                         int32_t nrows, const es_s8_output *o, int8_t *out,
                                                                         ptrdiff_t ldo, const int halves, const int mr,
                                                                         const int flip) {
  /* halves 0 (at most 8 columns): 256-bit vpdpbusd into q0..q7, two per cycle where a 512-bit
   * one takes the cycle; else 512-bit ones into a00..a71. */
  const __m512i zero = _mm512_setzero_si512();
  __m512i a00 = zero, a10 = zero, a20 = zero, a30 = zero, a40 = zero, a50 = zero, a60 = zero, a70 = zero;
  __m512i a01 = zero, a11 = zero, a21 = zero, a31 = zero, a41 = zero, a51 = zero, a61 = zero, a71 = zero;
  const __m256i z = _mm256_setzero_si256();
  __m256i q0 = z, q1 = z, q2 = z, q3 = z, q4 = z, q5 = z, q6 = z, q7 = z;
  for (int32_t g = 0; g < nseg; g++) {
    const ptrdiff_t off = seg_off[g];
    const uint8_t *x0 = a[0] + off, *x1 = a[1] + off, *x2 = a[2] + off, *x3 = a[3] + off;
    const uint8_t *x4 = a[4] + off, *x5 = a[5] + off, *x6 = a[6] + off, *x7 = a[7] + off;
    for (int32_t q = 0; q < qs; q++, w += PANEL_N * 4) {
      const __m512i w0 = halves ? _mm512_load_si512(w) : zero, w1 = halves == 2 ? _mm512_load_si512(w + 64) : w0;
      const __m256i w8 = halves ? z : _mm256_load_si256((const __m256i *)(const void *)w);
#define ES_S8_PANEL_ROW(r)                                                      \
  if ((r) < mr) {                                                               \
    int32_t v;                                                                  \
    memcpy(&v, x##r + 4 * q, 4);                                                \
    if (flip) v ^= (int32_t)0x80808080u;                                        \
    if (halves == 0) q##r = _mm256_dpbusd_epi32(q##r, _mm256_set1_epi32(v), w8); \
    else {                                                                      \
      const __m512i b = _mm512_set1_epi32(v);                                   \
      a##r##0 = _mm512_dpbusd_epi32(a##r##0, b, w0);                            \
      if (halves == 2) a##r##1 = _mm512_dpbusd_epi32(a##r##1, b, w1);           \
    }                                                                           \
  }
      ES_S8_PANEL_ROW(0) ES_S8_PANEL_ROW(1) ES_S8_PANEL_ROW(2) ES_S8_PANEL_ROW(3)
      ES_S8_PANEL_ROW(4) ES_S8_PANEL_ROW(5) ES_S8_PANEL_ROW(6) ES_S8_PANEL_ROW(7)
#undef ES_S8_PANEL_ROW
    }
  }
  if (halves == 0) {
    a00 = _mm512_castsi256_si512(q0), a10 = _mm512_castsi256_si512(q1), a20 = _mm512_castsi256_si512(q2);
    a30 = _mm512_castsi256_si512(q3), a40 = _mm512_castsi256_si512(q4), a50 = _mm512_castsi256_si512(q5);
    a60 = _mm512_castsi256_si512(q6), a70 = _mm512_castsi256_si512(q7);
  }
  const __m512i acc[PANEL_MR][2] = {{a00, a01}, {a10, a11}, {a20, a21}, {a30, a31},
                                    {a40, a41}, {a50, a51}, {a60, a61}, {a70, a71}};
  es_s8_panel_store_h(c, cols, acc, nrows, o, out, ldo, halves);
}

/* The block of PANEL_MR pointed-to rows (es_s8_panel_rows_seg_h; flip a constant) times every
 * column of the set, into out[r * ldo + j]: a block of at most 4 rows (the end of the matrix
 * or of the pixels) computes 4, one row (batch 1) 1. */
static inline __attribute__((always_inline)) void es_s8_panel_set_rows_f(const es_s8_panel_set *s, const uint8_t *const a[PANEL_MR],
                                                                         const ptrdiff_t *seg_off, int32_t nseg, int32_t nrows,
                                                                         const es_s8_output *o, int8_t *out, ptrdiff_t ldo,
                                                                         const int flip) {
  const size_t panel_bytes = (size_t)s->k4 * PANEL_N * 4;
  const int32_t qs = s->k4 / nseg;
  for (int32_t n0 = 0, pi = 0; n0 < s->cols; n0 += PANEL_N, pi++) {
    const int32_t cols = s->cols - n0 < PANEL_N ? s->cols - n0 : PANEL_N, halves = cols <= 8 ? 0 : cols <= 16 ? 1 : 2;
    const int8_t *w = s->w + pi * panel_bytes;
#define ES_S8_PANEL_CALL(h, mr) es_s8_panel_rows_seg_h(w, &s->c[pi], cols, a, seg_off, nseg, qs, nrows, o, out + n0, ldo, h, mr, flip)
#define ES_S8_PANEL_CALLS(mr) (halves == 0 ? ES_S8_PANEL_CALL(0, mr) : halves == 1 ? ES_S8_PANEL_CALL(1, mr) : ES_S8_PANEL_CALL(2, mr))
    if (nrows == 1) ES_S8_PANEL_CALLS(1);
    else if (nrows <= 4) ES_S8_PANEL_CALLS(4);
    else ES_S8_PANEL_CALLS(8);
#undef ES_S8_PANEL_CALLS
#undef ES_S8_PANEL_CALL
  }
}

/* Pointed-to rows, flipped beforehand, read in segments. */
static inline void es_s8_panel_set_rows_seg(const es_s8_panel_set *s, const uint8_t *const a[PANEL_MR],
                                            const ptrdiff_t *seg_off, int32_t nseg, int32_t nrows,
                                            const es_s8_output *o, int8_t *out, ptrdiff_t ldo) {
  es_s8_panel_set_rows_f(s, a, seg_off, nseg, nrows, o, out, ldo, 0);
}

/* Rows flipped beforehand, PANEL_ROW_BYTES apart. */
static inline void es_s8_panel_set_rows(const es_s8_panel_set *s, const uint8_t *rows, int32_t nrows,
                                        const es_s8_output *o, int8_t *out, ptrdiff_t ldo) {
  const uint8_t *a[PANEL_MR];
  for (int r = 0; r < PANEL_MR; r++) a[r] = rows + r * PANEL_ROW_BYTES;
  const ptrdiff_t whole = 0;
  es_s8_panel_set_rows_f(s, a, &whole, 1, nrows, o, out, ldo, 0);
}

/* Rows of a matrix as they are, ld apart, flipped per broadcast: for short rows, where
 * flipping them into a buffer first costs more than it saves. */
static inline void es_s8_panel_set_rows_direct(const es_s8_panel_set *s, const int8_t *rows, ptrdiff_t ld,
                                               int32_t nrows, const es_s8_output *o, int8_t *out, ptrdiff_t ldo) {
  const uint8_t *a[PANEL_MR];
  for (int r = 0; r < PANEL_MR; r++) a[r] = (const uint8_t *)rows + r * ld;
  const ptrdiff_t whole = 0;
  es_s8_panel_set_rows_f(s, a, &whole, 1, nrows, o, out, ldo, 1);
}

/* 8 columns' 8-lane sums -> one vector of the 8 totals in column order. */
static inline __attribute__((always_inline)) __m256i es_s8_fold8(const __m256i c[8]) {
  const __m256i h01 = _mm256_hadd_epi32(c[0], c[1]), h23 = _mm256_hadd_epi32(c[2], c[3]);
  const __m256i h45 = _mm256_hadd_epi32(c[4], c[5]), h67 = _mm256_hadd_epi32(c[6], c[7]);
  const __m256i h0123 = _mm256_hadd_epi32(h01, h23), h4567 = _mm256_hadd_epi32(h45, h67);
  return _mm256_add_epi32(_mm256_permute2x128_si256(h0123, h4567, 0x20), _mm256_permute2x128_si256(h0123, h4567, 0x31));
}

/* Batch 1: the one row `a` times all n columns of weights [n][k], 16 columns at a time.
 * Each step of 32 values of k multiplies |a| (as unsigned) by the weights with a's signs
 * (vpsignb; the weights are in [-127, 127]) with 256-bit vpdpbusd, one accumulator per
 * column, so no packing and no column sums are needed; the last 1 to 31 values load
 * masked (zeros add nothing). Through the 4 x 4 tile, a lone row ran four times over
 * and the batch-1 autoencoder took 27 us against LiteRT's 3. */
static __attribute__((noinline, unused)) void es_s8_vnni_row_gemm(const int8_t *a, const int8_t *weights, int32_t k,
                                                                  int32_t n, const int32_t *bias, const int32_t *mult,
                                                                  const int8_t *shift, const es_s8_output *o, int8_t *out) {
  for (int32_t j0 = 0; j0 < n; j0 += 16) {
    const int32_t cols = n - j0 < 16 ? n - j0 : 16;
    const int8_t *w[16];
    for (int j = 0; j < 16; j++) w[j] = weights + (size_t)(j0 + (j < cols ? j : cols - 1)) * k;
    /* Named accumulators, as in es_s8_panel_rows_seg_h. */
    const __m256i zero = _mm256_setzero_si256();
    __m256i a0 = zero, a1 = zero, a2 = zero, a3 = zero, a4 = zero, a5 = zero, a6 = zero, a7 = zero;
    __m256i a8 = zero, a9 = zero, a10 = zero, a11 = zero, a12 = zero, a13 = zero, a14 = zero, a15 = zero;
    for (int32_t i = 0; i < k; i += 32) {
      const __mmask32 m = k - i >= 32 ? ~(__mmask32)0 : (((__mmask32)1 << (k - i)) - 1);
      const __m256i x = _mm256_maskz_loadu_epi8(m, a + i), x_abs = _mm256_abs_epi8(x);
#define ES_S8_ROW_COLUMN(j) a##j = _mm256_dpbusd_epi32(a##j, x_abs, _mm256_sign_epi8(_mm256_maskz_loadu_epi8(m, w[j] + i), x));
      ES_S8_ROW_COLUMN(0) ES_S8_ROW_COLUMN(1) ES_S8_ROW_COLUMN(2) ES_S8_ROW_COLUMN(3)
      ES_S8_ROW_COLUMN(4) ES_S8_ROW_COLUMN(5) ES_S8_ROW_COLUMN(6) ES_S8_ROW_COLUMN(7)
      ES_S8_ROW_COLUMN(8) ES_S8_ROW_COLUMN(9) ES_S8_ROW_COLUMN(10) ES_S8_ROW_COLUMN(11)
      ES_S8_ROW_COLUMN(12) ES_S8_ROW_COLUMN(13) ES_S8_ROW_COLUMN(14) ES_S8_ROW_COLUMN(15)
#undef ES_S8_ROW_COLUMN
    }
    const __m256i acc[16] = {a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15};
    const __mmask16 keep = (__mmask16)((1u << cols) - 1u);
    const __m512i sum = _mm512_inserti64x4(_mm512_castsi256_si512(es_s8_fold8(acc)), es_s8_fold8(acc + 8), 1);
    const __m512i b = bias ? _mm512_maskz_loadu_epi32(keep, bias + j0) : _mm512_setzero_si512();
    const __m512i mu = _mm512_maskz_loadu_epi32(keep, mult + j0);
    const __m512i sh = _mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(keep, shift + j0));
    _mm_mask_storeu_epi8(out + j0, keep, _mm512_cvtepi32_epi8(es_s8_requant16(_mm512_add_epi32(sum, b), mu, sh, o)));
  }
}

#endif

#endif
