/* The AVX-512 VNNI path of es_gemm_s8 and es_conv2d_s8 for reductions up to PANEL_KMAX
 * (not part of the kernel API; x86 hosts built with -march=native).
 *
 * The 4 x 4 dot-product tile of tile_s8.h wastes most of a 64-byte vector when K is small
 * (MobileNetV2's K of 16 to 32) and pays a shuffle tree per tile. Here 32 output columns'
 * weights are packed once per call into a panel [K/4][32][4] on the stack, so one 64-byte
 * load holds 4 reduction steps of 16 columns; each row broadcasts 4 of its bytes (made
 * unsigned by flipping the sign bit, as in tile_s8.h) and vpdpbusd accumulates 16
 * columns at once. 8 rows x 32 columns stay in 16 registers over the whole of K, and each
 * row's 32 sums are requantized as two vectors with no horizontal reduction. */
#ifndef EDGESPEC_INT8_PANEL_VNNI_H
#define EDGESPEC_INT8_PANEL_VNNI_H

#include "requant_s8.h"

#if defined(ES_S8_VNNI)

enum {
  PANEL_N = 32,     /* output columns per panel */
  PANEL_KMAX = 2048, /* longest reduction packed (64 KiB of stack) */
  PANEL_MR = 8,      /* rows per register block */
  PANEL_MIN_ROWS = 8 /* fewer rows do not pay for the packing: tile_s8.h instead */
};

typedef struct {
  int8_t w[PANEL_KMAX / 4][PANEL_N][4] __attribute__((aligned(64)));
  int32_t bias[PANEL_N] __attribute__((aligned(64))), mult[PANEL_N] __attribute__((aligned(64)));
  int32_t shift[PANEL_N] __attribute__((aligned(64)));
  int32_t k, cols;
} es_s8_panel;

/* Columns [n0, n0 + cols) of weights [N][k] (cols <= PANEL_N, k <= PANEL_KMAX), their
 * bias less 128 * the column's weight sum, mult and shift; missing columns are zero. */
static inline void es_s8_panel_pack(es_s8_panel *p, const int8_t *weights, int32_t k, int32_t n0, int32_t cols,
                                    const int32_t *bias, const int32_t *mult, const int8_t *shift) {
  const int32_t k4 = (k + 3) / 4, full = k / 4;
  for (int32_t j = 0; j < PANEL_N; j++) {
    if (j >= cols) {
      for (int32_t q = 0; q < k4; q++) memset(p->w[q][j], 0, 4);
      p->bias[j] = 0, p->mult[j] = 0, p->shift[j] = 0;
      continue;
    }
    const int8_t *src = weights + (size_t)(n0 + j) * k;
    for (int32_t q = 0; q < full; q++) memcpy(p->w[q][j], src + 4 * q, 4);
    if (full < k4) {
      memset(p->w[full][j], 0, 4);
      memcpy(p->w[full][j], src + 4 * full, (size_t)(k - 4 * full));
    }
    int32_t sum = 0;
    for (int32_t i = 0; i < k; i++) sum += src[i];
    p->bias[j] = (bias ? bias[n0 + j] : 0) - 128 * sum;
    p->mult[j] = mult[n0 + j];
    p->shift[j] = shift[n0 + j];
  }
  p->k = k;
  p->cols = cols;
}

/* 4 bytes of a row from i on (fewer at the end of the row, zero-filled), sign bits
 * flipped, broadcast to every lane. */
static inline __m512i es_s8_panel_broadcast(const int8_t *a, int32_t i, int32_t k) {
  int32_t v = 0;
  if (k - i >= 4) memcpy(&v, a + i, 4);
  else memcpy(&v, a + i, (size_t)(k - i));
  return _mm512_set1_epi32(v ^ (int32_t)0x80808080u);
}

/* Rows a[0..rows) (K-contiguous; the rest of the 8 pointers repeat a valid row) times
 * the panel's first 16 * halves columns (halves a constant: 1 when the panel holds at most
 * 16, so that nothing is computed for the empty half: MobileNetV1's 16-channel pointwise
 * layers spent half their time there), requantized into out[r * ldo + j] for j < cols. */
static inline __attribute__((always_inline)) void es_s8_panel_rows_h(const es_s8_panel *p, const int8_t *const a[PANEL_MR],
                                                                     int32_t rows, const es_s8_output *o, int8_t *out,
                                                                     ptrdiff_t ldo, const int halves) {
  __m512i acc[PANEL_MR][2];
  for (int r = 0; r < PANEL_MR; r++) acc[r][0] = acc[r][1] = _mm512_setzero_si512();
  const int32_t k = p->k, full = k / 4;
  int32_t q = 0;
  for (; q < full; q++) {
    const __m512i w0 = _mm512_load_si512(p->w[q][0]), w1 = halves == 2 ? _mm512_load_si512(p->w[q][16]) : w0;
    for (int r = 0; r < PANEL_MR; r++) {
      int32_t v;
      memcpy(&v, a[r] + 4 * q, 4);
      const __m512i x = _mm512_set1_epi32(v ^ (int32_t)0x80808080u);
      acc[r][0] = _mm512_dpbusd_epi32(acc[r][0], x, w0);
      if (halves == 2) acc[r][1] = _mm512_dpbusd_epi32(acc[r][1], x, w1);
    }
  }
  if (4 * q < k) {
    /* The last 1 to 3 bytes: zero-filled, so 128 times a packed zero weight. */
    const __m512i w0 = _mm512_load_si512(p->w[q][0]), w1 = halves == 2 ? _mm512_load_si512(p->w[q][16]) : w0;
    for (int r = 0; r < PANEL_MR; r++) {
      const __m512i x = es_s8_panel_broadcast(a[r], 4 * q, k);
      acc[r][0] = _mm512_dpbusd_epi32(acc[r][0], x, w0);
      if (halves == 2) acc[r][1] = _mm512_dpbusd_epi32(acc[r][1], x, w1);
    }
  }
  const __mmask32 store = p->cols >= 32 ? ~(__mmask32)0 : (((__mmask32)1 << p->cols) - 1);
  for (int32_t h = 0; h < halves; h++) {
    const __m512i bias = _mm512_load_si512(p->bias + 16 * h), mult = _mm512_load_si512(p->mult + 16 * h);
    const __m512i shift = _mm512_load_si512(p->shift + 16 * h);
    for (int32_t r = 0; r < PANEL_MR; r++) {
      if (r >= rows) break;
      const __m512i y = es_s8_requant16(_mm512_add_epi32(acc[r][h], bias), mult, shift, o);
      _mm_mask_storeu_epi8(out + r * ldo + 16 * h, (__mmask16)(store >> (16 * h)), _mm512_cvtepi32_epi8(y));
    }
  }
}

static inline __attribute__((always_inline)) void es_s8_panel_rows(const es_s8_panel *p, const int8_t *const a[PANEL_MR],
                                                                   int32_t rows, const es_s8_output *o, int8_t *out,
                                                                   ptrdiff_t ldo) {
  if (p->cols <= 16) es_s8_panel_rows_h(p, a, rows, o, out, ldo, 1);
  else es_s8_panel_rows_h(p, a, rows, o, out, ldo, 2);
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
    __m256i acc[16];
    for (int j = 0; j < 16; j++) acc[j] = _mm256_setzero_si256();
    for (int32_t i = 0; i < k; i += 32) {
      const __mmask32 m = k - i >= 32 ? ~(__mmask32)0 : (((__mmask32)1 << (k - i)) - 1);
      const __m256i x = _mm256_maskz_loadu_epi8(m, a + i), x_abs = _mm256_abs_epi8(x);
      for (int j = 0; j < 16; j++)
        acc[j] = _mm256_dpbusd_epi32(acc[j], x_abs, _mm256_sign_epi8(_mm256_maskz_loadu_epi8(m, w[j] + i), x));
    }
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
