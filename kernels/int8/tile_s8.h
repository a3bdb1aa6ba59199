/* The 4x4 register tile shared by es_gemm_s8 and es_conv2d_s8 (not part of the kernel API):
 *   sum[r][j] = sum_i a_r[i] * w_j[i]   for 4 rows a_r and 4 weight rows w_j, both K-contiguous
 * (weights [N][K], as the build lays them out), then the bias, TFLite's requantization, the
 * output zero point and the clamp, vectorized over the tile.
 *
 * Three implementations of one arithmetic, bit for bit:
 * - NEON (AArch64; cortex-a72 has no sdot): smull + smlal2 multiply 16 int8 pairs into
 *   8 int16 lanes (two products per lane fit: 2 * 128 * 127 < 2^15 because weights are in
 *   [-127, 127]), sadalp adds them pairwise into the int32 accumulator of the (row, column)
 *   pair; a pairwise-add tree reduces the 16 accumulators to one int32x4 per row.
 *   Requantization: requant_s8.h.
 * - AVX-512 VNNI (x86 hosts with -march=native): vpdpbusd multiplies u8 by s8 and adds four
 *   products into int32 without saturating; the activations are made unsigned by
 *   flipping their sign bit (a + 128), and the caller subtracts 128 * sum_i w_j[i] from
 *   the bias of column j (es_s8_column_offset). A shuffle tree reduces the 16
 *   accumulators to one vector holding the whole tile, row-major.
 * - Portable C for everything else (ES_NO_NEON, other hosts). With AVX2 (no VNNI) the tile
 *   is the portable one (only K > PANEL2_KMAX reaches it: panel_avx2.h takes the rest), and
 *   a lone row has its own vpmaddubsw form (es_s8_row_dot4 below).
 *
 * Rows and columns past the edge of the matrix repeat a valid pointer (their results are
 * computed and not stored), so the tile always works on 4 x 4. */
#ifndef EDGESPEC_INT8_TILE_S8_H
#define EDGESPEC_INT8_TILE_S8_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "requant_s8.h"

/* GCC's first scheduling pass hoists the loads of the 4x4 tile far ahead and makes its
 * 16 accumulators spill; as in kernels/fp32/internal.h. */
#if defined(ES_S8_NEON) && defined(__GNUC__) && !defined(__clang__)
#define ES_S8_REGISTER_HEAVY _Pragma("GCC optimize(\"no-schedule-insns\")")
#else
#define ES_S8_REGISTER_HEAVY
#endif

/* Requantization constants of 4 consecutive output columns (padded by repetition at the
 * right edge). */
typedef struct {
  int32_t bias[4], mult[4], shift[4];
} es_s8_columns;

/* What the bias of a column must lose for the dot products of this file: 128 * sum of the
 * column's weights with VNNI (the activations are read as a + 128), else 0. */
ES_S8_INLINE int32_t es_s8_column_offset(const int8_t *w, int32_t k) {
#if defined(ES_S8_VNNI)
  int32_t sum = 0;
  for (int32_t i = 0; i < k; i++) sum += w[i];
  return 128 * sum;
#else
  (void)w;
  (void)k;
  return 0;
#endif
}

/* Columns j0 .. j0 + 3 of a call (cols of them valid): bias (0 if NULL) less the column
 * offset, mult, shift. */
ES_S8_INLINE void es_s8_columns_make(es_s8_columns *c, const int8_t *weights, int32_t k, const int32_t *bias,
                                     const int32_t *mult, const int8_t *shift, int32_t j0, int32_t cols) {
  for (int32_t j = 0; j < 4; j++) {
    const int32_t col = j0 + (j < cols ? j : cols - 1);
    c->bias[j] = (bias ? bias[col] : 0) - es_s8_column_offset(weights + (size_t)col * k, k);
    c->mult[j] = mult[col];
    c->shift[j] = shift[col];
  }
}

/* The rows x cols corner of a finished tile (row-major 4 x 4 bytes in `all`). Out of line
 * and kept from becoming memcpy calls: edge tiles only. */
static __attribute__((noinline, unused, optimize("no-tree-loop-distribute-patterns"))) void es_s8_store_partial(
    const int8_t *all, int8_t *out, ptrdiff_t ldo, int32_t rows, int32_t cols) {
  for (int32_t r = 0; r < rows; r++)
    for (int32_t j = 0; j < cols; j++) out[r * ldo + j] = all[4 * r + j];
}

/* ---------------------------------------------------------------------------------------- */
#if defined(ES_S8_NEON)

typedef struct {
  int32x4_t row[4]; /* row r: columns 0..3 */
} es_s8_tile;

ES_S8_INLINE es_s8_tile es_s8_tile_zero(void) {
  es_s8_tile t;
  for (int r = 0; r < 4; r++) t.row[r] = vdupq_n_s32(0);
  return t;
}

ES_S8_INLINE es_s8_tile es_s8_tile_load(const int32_t *p) {
  es_s8_tile t;
  for (int r = 0; r < 4; r++) t.row[r] = vld1q_s32(p + 4 * r);
  return t;
}

ES_S8_INLINE void es_s8_tile_save(const es_s8_tile *t, int32_t *p) {
  for (int r = 0; r < 4; r++) vst1q_s32(p + 4 * r, t->row[r]);
}

/* One (row, column) pair over 16 values: smull + smlal2 into 8 int16 lanes, sadalp. */
#define ES_S8_MAC16(acc, x, y) acc = vpadalq_s16(acc, vmlal_high_s8(vmull_s8(vget_low_s8(x), vget_low_s8(y)), x, y))
#define ES_S8_START16(acc, x, y) acc = vpaddlq_s16(vmlal_high_s8(vmull_s8(vget_low_s8(x), vget_low_s8(y)), x, y))
#define ES_S8_MAC8(acc, x, y) acc = vpadalq_s16(acc, vmull_s8(x, y))
/* All 16 pairs of rows x0..x3 and columns y0..y3 (named variables, not arrays: GCC kept
 * an array of accumulators on the stack). */
#define ES_S8_MAC_ALL(MAC, x0, x1, x2, x3, y0, y1, y2, y3)                                            \
  MAC(c00, x0, y0); MAC(c01, x0, y1); MAC(c02, x0, y2); MAC(c03, x0, y3);                             \
  MAC(c10, x1, y0); MAC(c11, x1, y1); MAC(c12, x1, y2); MAC(c13, x1, y3);                             \
  MAC(c20, x2, y0); MAC(c21, x2, y1); MAC(c22, x2, y2); MAC(c23, x2, y3);                             \
  MAC(c30, x3, y0); MAC(c31, x3, y1); MAC(c32, x3, y2); MAC(c33, x3, y3)

/* t += the dot products over [0, k). */
ES_S8_INLINE void es_s8_tile_dot(es_s8_tile *t, const int8_t *const a[4], const int8_t *const w[4], int32_t k) {
  const int8_t *a0 = a[0], *a1 = a[1], *a2 = a[2], *a3 = a[3];
  const int8_t *w0 = w[0], *w1 = w[1], *w2 = w[2], *w3 = w[3];
  int32x4_t c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33;
  int32_t i = 0;
  if (k >= 16) {
    /* The first 16 values start the accumulators (saddlp): no zeroing moves. */
    const int8x16_t x0 = vld1q_s8(a0), x1 = vld1q_s8(a1), x2 = vld1q_s8(a2), x3 = vld1q_s8(a3);
    const int8x16_t y0 = vld1q_s8(w0), y1 = vld1q_s8(w1), y2 = vld1q_s8(w2), y3 = vld1q_s8(w3);
    ES_S8_MAC_ALL(ES_S8_START16, x0, x1, x2, x3, y0, y1, y2, y3);
    i = 16;
  } else {
    c00 = vdupq_n_s32(0), c01 = c00, c02 = c00, c03 = c00, c10 = c00, c11 = c00, c12 = c00, c13 = c00;
    c20 = c00, c21 = c00, c22 = c00, c23 = c00, c30 = c00, c31 = c00, c32 = c00, c33 = c00;
  }
  for (; i + 16 <= k; i += 16) {
    const int8x16_t x0 = vld1q_s8(a0 + i), x1 = vld1q_s8(a1 + i), x2 = vld1q_s8(a2 + i), x3 = vld1q_s8(a3 + i);
    const int8x16_t y0 = vld1q_s8(w0 + i), y1 = vld1q_s8(w1 + i), y2 = vld1q_s8(w2 + i), y3 = vld1q_s8(w3 + i);
    ES_S8_MAC_ALL(ES_S8_MAC16, x0, x1, x2, x3, y0, y1, y2, y3);
  }
  if (i + 8 <= k) {
    const int8x8_t x0 = vld1_s8(a0 + i), x1 = vld1_s8(a1 + i), x2 = vld1_s8(a2 + i), x3 = vld1_s8(a3 + i);
    const int8x8_t y0 = vld1_s8(w0 + i), y1 = vld1_s8(w1 + i), y2 = vld1_s8(w2 + i), y3 = vld1_s8(w3 + i);
    ES_S8_MAC_ALL(ES_S8_MAC8, x0, x1, x2, x3, y0, y1, y2, y3);
    i += 8;
  }
  if (i < k && k >= 8) {
    /* The last 1 to 7 values: the 8 bytes that end the rows, with the lanes already
     * counted zeroed in a. */
    static const int8_t ones[16] = {0, 0, 0, 0, 0, 0, 0, 0, -1, -1, -1, -1, -1, -1, -1, -1};
    const int8x8_t keep = vld1_s8(ones + (k - i));
    const int8x8_t x0 = vand_s8(vld1_s8(a0 + k - 8), keep), x1 = vand_s8(vld1_s8(a1 + k - 8), keep);
    const int8x8_t x2 = vand_s8(vld1_s8(a2 + k - 8), keep), x3 = vand_s8(vld1_s8(a3 + k - 8), keep);
    const int8x8_t y0 = vld1_s8(w0 + k - 8), y1 = vld1_s8(w1 + k - 8), y2 = vld1_s8(w2 + k - 8), y3 = vld1_s8(w3 + k - 8);
    ES_S8_MAC_ALL(ES_S8_MAC8, x0, x1, x2, x3, y0, y1, y2, y3);
    i = k;
  }
  int32x4_t sum[4] = {vpaddq_s32(vpaddq_s32(c00, c01), vpaddq_s32(c02, c03)),
                      vpaddq_s32(vpaddq_s32(c10, c11), vpaddq_s32(c12, c13)),
                      vpaddq_s32(vpaddq_s32(c20, c21), vpaddq_s32(c22, c23)),
                      vpaddq_s32(vpaddq_s32(c30, c31), vpaddq_s32(c32, c33))};
  if (i < k) { /* k < 8: plain loops */
    for (int r = 0; r < 4; r++) {
      int32_t tail[4];
      for (int j = 0; j < 4; j++) {
        int32_t s = 0;
        for (int32_t p = i; p < k; p++) s += (int32_t)a[r][p] * (int32_t)w[j][p];
        tail[j] = s;
      }
      sum[r] = vaddq_s32(sum[r], vld1q_s32(tail));
    }
  }
  for (int r = 0; r < 4; r++) t->row[r] = vaddq_s32(t->row[r], sum[r]);
}

/* t += the dot products of nseg spans of len values: span s of row r at a[r] + a_off[s], of
 * column j at w[j] + s * len (conv2d's patch spans read in place, or one span of a gathered
 * row); es_s8_tile_dot's steps per span, one set of accumulators and one reduction for all
 * spans; spans shorter than 8 values in plain loops. */
ES_S8_INLINE void es_s8_tile_dot_spans(es_s8_tile *t, const int8_t *const a[4], const ptrdiff_t *a_off, int32_t nseg,
                                       const int8_t *const w[4], int32_t len) {
  static const int8_t ones[16] = {0, 0, 0, 0, 0, 0, 0, 0, -1, -1, -1, -1, -1, -1, -1, -1};
  int32x4_t c00 = vdupq_n_s32(0), c01 = c00, c02 = c00, c03 = c00, c10 = c00, c11 = c00, c12 = c00, c13 = c00;
  int32x4_t c20 = c00, c21 = c00, c22 = c00, c23 = c00, c30 = c00, c31 = c00, c32 = c00, c33 = c00;
  const int8x8_t keep = vld1_s8(ones + (len & 7));
  for (int32_t s = 0; s < nseg; s++) {
    const int8_t *a0 = a[0] + a_off[s], *a1 = a[1] + a_off[s], *a2 = a[2] + a_off[s], *a3 = a[3] + a_off[s];
    const int8_t *w0 = w[0] + s * len, *w1 = w[1] + s * len, *w2 = w[2] + s * len, *w3 = w[3] + s * len;
    int32_t i = 0;
    for (; i + 16 <= len; i += 16) {
      const int8x16_t x0 = vld1q_s8(a0 + i), x1 = vld1q_s8(a1 + i), x2 = vld1q_s8(a2 + i), x3 = vld1q_s8(a3 + i);
      const int8x16_t y0 = vld1q_s8(w0 + i), y1 = vld1q_s8(w1 + i), y2 = vld1q_s8(w2 + i), y3 = vld1q_s8(w3 + i);
      ES_S8_MAC_ALL(ES_S8_MAC16, x0, x1, x2, x3, y0, y1, y2, y3);
    }
    if (i + 8 <= len) {
      const int8x8_t x0 = vld1_s8(a0 + i), x1 = vld1_s8(a1 + i), x2 = vld1_s8(a2 + i), x3 = vld1_s8(a3 + i);
      const int8x8_t y0 = vld1_s8(w0 + i), y1 = vld1_s8(w1 + i), y2 = vld1_s8(w2 + i), y3 = vld1_s8(w3 + i);
      ES_S8_MAC_ALL(ES_S8_MAC8, x0, x1, x2, x3, y0, y1, y2, y3);
      i += 8;
    }
    if (i < len && len >= 8) { /* the last 1 to 7 values: the span's last 8 bytes, those already counted zeroed in a */
      const int32_t e = len - 8;
      const int8x8_t x0 = vand_s8(vld1_s8(a0 + e), keep), x1 = vand_s8(vld1_s8(a1 + e), keep);
      const int8x8_t x2 = vand_s8(vld1_s8(a2 + e), keep), x3 = vand_s8(vld1_s8(a3 + e), keep);
      const int8x8_t y0 = vld1_s8(w0 + e), y1 = vld1_s8(w1 + e), y2 = vld1_s8(w2 + e), y3 = vld1_s8(w3 + e);
      ES_S8_MAC_ALL(ES_S8_MAC8, x0, x1, x2, x3, y0, y1, y2, y3);
    }
  }
  t->row[0] = vaddq_s32(t->row[0], vpaddq_s32(vpaddq_s32(c00, c01), vpaddq_s32(c02, c03)));
  t->row[1] = vaddq_s32(t->row[1], vpaddq_s32(vpaddq_s32(c10, c11), vpaddq_s32(c12, c13)));
  t->row[2] = vaddq_s32(t->row[2], vpaddq_s32(vpaddq_s32(c20, c21), vpaddq_s32(c22, c23)));
  t->row[3] = vaddq_s32(t->row[3], vpaddq_s32(vpaddq_s32(c30, c31), vpaddq_s32(c32, c33)));
  if (len < 8) {
    for (int r = 0; r < 4; r++) {
      int32_t tail[4] = {0, 0, 0, 0};
      for (int32_t s = 0; s < nseg; s++)
        for (int j = 0; j < 4; j++)
          for (int32_t p = 0; p < len; p++) tail[j] += (int32_t)a[r][a_off[s] + p] * (int32_t)w[j][s * len + p];
      t->row[r] = vaddq_s32(t->row[r], vld1q_s32(tail));
    }
  }
}

/* One row against 4 weight rows: the 4 dot products over [0, k) as one int32x4 (columns
 * 0..3), the same sums as a row of es_s8_tile_dot. For a matrix of one row (a fully
 * connected layer at batch 1) and the last row of a taller one, where the 4 x 4 tile would
 * compute that row four times over: 12 multiply-accumulate instructions per 16 values of
 * k instead of 48. */
#define ES_S8_HAS_ROW_DOT4 1
typedef int32x4_t es_s8_row4;
ES_S8_INLINE int32x4_t es_s8_row_dot4(const int8_t *a, const int8_t *const w[4], int32_t k) {
  const int8_t *w0 = w[0], *w1 = w[1], *w2 = w[2], *w3 = w[3];
  int32x4_t c0 = vdupq_n_s32(0), c1 = c0, c2 = c0, c3 = c0;
  int32_t i = 0;
  for (; i + 16 <= k; i += 16) {
    const int8x16_t x = vld1q_s8(a + i);
    ES_S8_MAC16(c0, x, vld1q_s8(w0 + i));
    ES_S8_MAC16(c1, x, vld1q_s8(w1 + i));
    ES_S8_MAC16(c2, x, vld1q_s8(w2 + i));
    ES_S8_MAC16(c3, x, vld1q_s8(w3 + i));
  }
  if (i + 8 <= k) {
    const int8x8_t x = vld1_s8(a + i);
    ES_S8_MAC8(c0, x, vld1_s8(w0 + i));
    ES_S8_MAC8(c1, x, vld1_s8(w1 + i));
    ES_S8_MAC8(c2, x, vld1_s8(w2 + i));
    ES_S8_MAC8(c3, x, vld1_s8(w3 + i));
    i += 8;
  }
  int32x4_t sum = vpaddq_s32(vpaddq_s32(c0, c1), vpaddq_s32(c2, c3));
  if (i < k) {
    int32_t tail[4];
    for (int j = 0; j < 4; j++) {
      int32_t s = 0;
      for (int32_t p = i; p < k; p++) s += (int32_t)a[p] * (int32_t)w[j][p];
      tail[j] = s;
    }
    sum = vaddq_s32(sum, vld1q_s32(tail));
  }
  return sum;
}

/* A lone row times columns [0, n8) (n8 a multiple of 8): es_s8_row_dot4's arithmetic on 8
 * columns per pass, the row's 16 values loaded once for 8 columns, and the 8 columns'
 * bias, mult and shift read as vectors and requantized together (one narrow, one 8-byte
 * store), instead of es_s8_columns_make's scalar copies and a requantization per 4. */
#define ES_S8_HAS_ROW_GEMM8 1
ES_S8_INLINE void es_s8_row_gemm8(const int8_t *a, const int8_t *weights, int32_t k, int32_t n8, const int32_t *bias,
                                  const int32_t *mult, const int8_t *shift, const es_s8_output *o, int8_t *out) {
  static const int8_t keep_last[16] = {0, 0, 0, 0, 0, 0, 0, 0, -1, -1, -1, -1, -1, -1, -1, -1};
  /* a copy the stores to out cannot alias: its constants stay in registers across groups */
  const es_s8_output oc = *o;
  for (int32_t j0 = 0; j0 < n8; j0 += 8) {
    const int8_t *w0 = weights + (size_t)j0 * k, *w1 = w0 + k, *w2 = w1 + k, *w3 = w2 + k;
    const int8_t *w4 = w3 + k, *w5 = w4 + k, *w6 = w5 + k, *w7 = w6 + k;
    int32x4_t c0, c1, c2, c3, c4, c5, c6, c7;
    int32_t i = 0;
    if (k >= 16) { /* the first 16 values start the accumulators (saddlp): no zeroing moves */
      const int8x16_t x = vld1q_s8(a);
      ES_S8_START16(c0, x, vld1q_s8(w0));
      ES_S8_START16(c1, x, vld1q_s8(w1));
      ES_S8_START16(c2, x, vld1q_s8(w2));
      ES_S8_START16(c3, x, vld1q_s8(w3));
      ES_S8_START16(c4, x, vld1q_s8(w4));
      ES_S8_START16(c5, x, vld1q_s8(w5));
      ES_S8_START16(c6, x, vld1q_s8(w6));
      ES_S8_START16(c7, x, vld1q_s8(w7));
      i = 16;
    } else {
      c0 = vdupq_n_s32(0), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0;
    }
    for (; i + 16 <= k; i += 16) {
      const int8x16_t x = vld1q_s8(a + i);
      ES_S8_MAC16(c0, x, vld1q_s8(w0 + i));
      ES_S8_MAC16(c1, x, vld1q_s8(w1 + i));
      ES_S8_MAC16(c2, x, vld1q_s8(w2 + i));
      ES_S8_MAC16(c3, x, vld1q_s8(w3 + i));
      ES_S8_MAC16(c4, x, vld1q_s8(w4 + i));
      ES_S8_MAC16(c5, x, vld1q_s8(w5 + i));
      ES_S8_MAC16(c6, x, vld1q_s8(w6 + i));
      ES_S8_MAC16(c7, x, vld1q_s8(w7 + i));
    }
    if (i + 8 <= k) {
      const int8x8_t x = vld1_s8(a + i);
      ES_S8_MAC8(c0, x, vld1_s8(w0 + i));
      ES_S8_MAC8(c1, x, vld1_s8(w1 + i));
      ES_S8_MAC8(c2, x, vld1_s8(w2 + i));
      ES_S8_MAC8(c3, x, vld1_s8(w3 + i));
      ES_S8_MAC8(c4, x, vld1_s8(w4 + i));
      ES_S8_MAC8(c5, x, vld1_s8(w5 + i));
      ES_S8_MAC8(c6, x, vld1_s8(w6 + i));
      ES_S8_MAC8(c7, x, vld1_s8(w7 + i));
      i += 8;
    }
    if (i < k && k >= 8) {
      /* the last 1 to 7 values: the 8 bytes that end the rows, those already counted zeroed in a */
      const int8x8_t x = vand_s8(vld1_s8(a + k - 8), vld1_s8(keep_last + (k - i)));
      ES_S8_MAC8(c0, x, vld1_s8(w0 + k - 8));
      ES_S8_MAC8(c1, x, vld1_s8(w1 + k - 8));
      ES_S8_MAC8(c2, x, vld1_s8(w2 + k - 8));
      ES_S8_MAC8(c3, x, vld1_s8(w3 + k - 8));
      ES_S8_MAC8(c4, x, vld1_s8(w4 + k - 8));
      ES_S8_MAC8(c5, x, vld1_s8(w5 + k - 8));
      ES_S8_MAC8(c6, x, vld1_s8(w6 + k - 8));
      ES_S8_MAC8(c7, x, vld1_s8(w7 + k - 8));
      i = k;
    }
    int32x4_t lo = vpaddq_s32(vpaddq_s32(c0, c1), vpaddq_s32(c2, c3));
    int32x4_t hi = vpaddq_s32(vpaddq_s32(c4, c5), vpaddq_s32(c6, c7));
    if (i < k) { /* k < 8 */
      int32_t tail[8];
      const int8_t *w[8] = {w0, w1, w2, w3, w4, w5, w6, w7};
      for (int j = 0; j < 8; j++) {
        int32_t s = 0;
        for (int32_t p = i; p < k; p++) s += (int32_t)a[p] * (int32_t)w[j][p];
        tail[j] = s;
      }
      lo = vaddq_s32(lo, vld1q_s32(tail));
      hi = vaddq_s32(hi, vld1q_s32(tail + 4));
    }
    if (bias) {
      lo = vaddq_s32(lo, vld1q_s32(bias + j0));
      hi = vaddq_s32(hi, vld1q_s32(bias + j0 + 4));
    }
    const int16x8_t sh16 = vmovl_s8(vld1_s8(shift + j0));
    const es_s8_requant4_consts q_lo = es_s8_requant4_make(vld1q_s32(mult + j0), vmovl_s16(vget_low_s16(sh16)), &oc);
    const es_s8_requant4_consts q_hi = es_s8_requant4_make(vld1q_s32(mult + j0 + 4), vmovl_high_s16(sh16), &oc);
    const int16x8_t n16 = vqaddq_s16(vcombine_s16(vqmovn_s32(es_s8_requant4(&q_lo, lo)), vqmovn_s32(es_s8_requant4(&q_hi, hi))),
                                     q_lo.zp);
    vst1_s8(out + j0, vmin_s8(vmax_s8(vqmovn_s16(n16), vget_low_s8(q_lo.lo)), vget_low_s8(q_lo.hi)));
  }
}

/* out[j] for j < cols: clamp(out_zp + requant(sum + bias)) of one row (es_s8_row_dot4),
 * requantized once rather than as a tile of four. */
ES_S8_INLINE void es_s8_row_store(int32x4_t sum, const es_s8_columns *c, const es_s8_output *o, int8_t *out,
                                  int32_t cols) {
  const es_s8_requant4_consts q = es_s8_requant4_make(vld1q_s32(c->mult), vld1q_s32(c->shift), o);
  const int32x4_t r = es_s8_requant4(&q, vaddq_s32(sum, vld1q_s32(c->bias)));
  const int16x8_t n = vqaddq_s16(vcombine_s16(vqmovn_s32(r), vqmovn_s32(r)), q.zp);
  const int8x8_t bytes = vmin_s8(vmax_s8(vqmovn_s16(n), vget_low_s8(q.lo)), vget_low_s8(q.hi));
  if (cols == 4) {
    vst1_lane_u32((uint32_t *)(void *)out, vreinterpret_u32_s8(bytes), 0);
    return;
  }
  int8_t all[8];
  vst1_s8(all, bytes);
  es_s8_store_partial(all, out, 0, 1, cols);
}

/* out[r * ldo + j] for r < rows, j < cols: clamp(out_zp + requant(t + bias)). */
ES_S8_INLINE void es_s8_tile_store(const es_s8_tile *t, const es_s8_columns *c, const es_s8_output *o,
                                   int8_t *out, ptrdiff_t ldo, int32_t rows, int32_t cols) {
  const int32x4_t bias = vld1q_s32(c->bias);
  const es_s8_requant4_consts q = es_s8_requant4_make(vld1q_s32(c->mult), vld1q_s32(c->shift), o);
  const int8x16_t bytes = es_s8_narrow16(&q, es_s8_requant4(&q, vaddq_s32(t->row[0], bias)),
                                         es_s8_requant4(&q, vaddq_s32(t->row[1], bias)),
                                         es_s8_requant4(&q, vaddq_s32(t->row[2], bias)),
                                         es_s8_requant4(&q, vaddq_s32(t->row[3], bias)));
  if (rows == 4 && cols == 4) {
    /* Four 4-byte lane stores (no alignment needed); a memcpy call here would spill the tile. */
    const uint32x4_t words = vreinterpretq_u32_s8(bytes);
    vst1q_lane_u32((uint32_t *)(void *)out, words, 0);
    vst1q_lane_u32((uint32_t *)(void *)(out + ldo), words, 1);
    vst1q_lane_u32((uint32_t *)(void *)(out + 2 * ldo), words, 2);
    vst1q_lane_u32((uint32_t *)(void *)(out + 3 * ldo), words, 3);
    return;
  }
  int8_t all[16];
  vst1q_s8(all, bytes);
  es_s8_store_partial(all, out, ldo, rows, cols);
}

/* ---------------------------------------------------------------------------------------- */
#elif defined(ES_S8_VNNI)

typedef struct {
  __m512i v; /* lane 4 * r + j: row r, column j */
} es_s8_tile;

ES_S8_INLINE es_s8_tile es_s8_tile_zero(void) {
  es_s8_tile t = {_mm512_setzero_si512()};
  return t;
}

ES_S8_INLINE es_s8_tile es_s8_tile_load(const int32_t *p) {
  es_s8_tile t = {_mm512_loadu_si512(p)};
  return t;
}

ES_S8_INLINE void es_s8_tile_save(const es_s8_tile *t, int32_t *p) { _mm512_storeu_si512(p, t->v); }

/* Four accumulators of one row -> one vector whose 128-bit lanes each hold partial sums of
 * columns 0..3. */
ES_S8_INLINE __m512i es_s8_fold4(__m512i c0, __m512i c1, __m512i c2, __m512i c3) {
  const __m512i s01 = _mm512_add_epi32(_mm512_unpacklo_epi32(c0, c1), _mm512_unpackhi_epi32(c0, c1));
  const __m512i s23 = _mm512_add_epi32(_mm512_unpacklo_epi32(c2, c3), _mm512_unpackhi_epi32(c2, c3));
  return _mm512_add_epi32(_mm512_unpacklo_epi64(s01, s23), _mm512_unpackhi_epi64(s01, s23));
}

ES_S8_INLINE void es_s8_tile_dot(es_s8_tile *t, const int8_t *const a[4], const int8_t *const w[4], int32_t k) {
  __m512i acc[4][4];
  for (int r = 0; r < 4; r++)
    for (int j = 0; j < 4; j++) acc[r][j] = _mm512_setzero_si512();
  const __m512i flip = _mm512_set1_epi8((char)0x80);
  for (int32_t i = 0; i < k; i += 64) {
    const __mmask64 m = k - i >= 64 ? ~(__mmask64)0 : (((__mmask64)1 << (k - i)) - 1);
    __m512i va[4], vw[4];
    /* Masked-off bytes load as 0: a + 128 is then 128, times a weight of 0. */
    for (int r = 0; r < 4; r++) va[r] = _mm512_xor_si512(_mm512_maskz_loadu_epi8(m, a[r] + i), flip);
    for (int j = 0; j < 4; j++) vw[j] = _mm512_maskz_loadu_epi8(m, w[j] + i);
    for (int r = 0; r < 4; r++)
      for (int j = 0; j < 4; j++) acc[r][j] = _mm512_dpbusd_epi32(acc[r][j], va[r], vw[j]);
  }
  __m512i rows[4];
  for (int r = 0; r < 4; r++) rows[r] = es_s8_fold4(acc[r][0], acc[r][1], acc[r][2], acc[r][3]);
  /* Sum each row's four 128-bit lanes: [r0, r1, r2, r3] totals in the four lanes. */
  const __m512i t01 = _mm512_add_epi32(_mm512_shuffle_i32x4(rows[0], rows[1], 0x88), _mm512_shuffle_i32x4(rows[0], rows[1], 0xdd));
  const __m512i t23 = _mm512_add_epi32(_mm512_shuffle_i32x4(rows[2], rows[3], 0x88), _mm512_shuffle_i32x4(rows[2], rows[3], 0xdd));
  const __m512i sum = _mm512_add_epi32(_mm512_shuffle_i32x4(t01, t23, 0x88), _mm512_shuffle_i32x4(t01, t23, 0xdd));
  t->v = _mm512_add_epi32(t->v, sum);
}

ES_S8_INLINE void es_s8_tile_store(const es_s8_tile *t, const es_s8_columns *c, const es_s8_output *o,
                                   int8_t *out, ptrdiff_t ldo, int32_t rows, int32_t cols) {
  const __m512i bias = _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)c->bias));
  const __m512i mult = _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)c->mult));
  const __m512i shift = _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)c->shift));
  const __m512i x = es_s8_requant16(_mm512_add_epi32(t->v, bias), mult, shift, o);
  int8_t all[16];
  _mm_storeu_si128((__m128i *)all, _mm512_cvtepi32_epi8(x));
  es_s8_store_partial(all, out, ldo, rows, cols);
}

/* ---------------------------------------------------------------------------------------- */
#else

typedef struct {
  int32_t v[4][4];
} es_s8_tile;

ES_S8_INLINE es_s8_tile es_s8_tile_zero(void) {
  es_s8_tile t;
  memset(&t, 0, sizeof t);
  return t;
}

ES_S8_INLINE es_s8_tile es_s8_tile_load(const int32_t *p) {
  es_s8_tile t;
  memcpy(t.v, p, sizeof t.v);
  return t;
}

ES_S8_INLINE void es_s8_tile_save(const es_s8_tile *t, int32_t *p) { memcpy(p, t->v, sizeof t->v); }

ES_S8_INLINE void es_s8_tile_dot(es_s8_tile *t, const int8_t *const a[4], const int8_t *const w[4], int32_t k) {
  for (int r = 0; r < 4; r++) {
    for (int j = 0; j < 4; j++) {
      int32_t s = 0;
      for (int32_t i = 0; i < k; i++) s += (int32_t)a[r][i] * (int32_t)w[j][i];
      t->v[r][j] += s;
    }
  }
}

ES_S8_INLINE void es_s8_tile_dot_spans(es_s8_tile *t, const int8_t *const a[4], const ptrdiff_t *a_off, int32_t nseg,
                                       const int8_t *const w[4], int32_t len) {
  for (int32_t s = 0; s < nseg; s++) {
    const int8_t *as[4] = {a[0] + a_off[s], a[1] + a_off[s], a[2] + a_off[s], a[3] + a_off[s]};
    const int8_t *ws[4] = {w[0] + s * len, w[1] + s * len, w[2] + s * len, w[3] + s * len};
    es_s8_tile_dot(t, as, ws, len);
  }
}

#if defined(ES_S8_AVX2)
/* One row against 4 weight rows (see the NEON es_s8_row_dot4), 32 values of k per step:
 * vpmaddubsw multiplies |a| (vpabsb, read as unsigned: 128 for -128) by sign(a) * w
 * (vpsignb; weights are in [-127, 127], so the negation cannot overflow) and adds pairs
 * into int16 without saturating (2 * 128 * 127 = 32512), vpmaddwd with ones widens the
 * pairs into int32. |a| is shared by the 4 columns. The last 1 to 31 values are copied
 * into zero-filled buffers (a zero in a makes its product zero). */
#define ES_S8_HAS_ROW_DOT4 1
typedef __m128i es_s8_row4;

ES_S8_INLINE __m256i es_s8_dot32(__m256i a_abs, __m256i a, const int8_t *w, __m256i ones) {
  const __m256i prod = _mm256_maddubs_epi16(a_abs, _mm256_sign_epi8(_mm256_loadu_si256((const __m256i *)w), a));
  return _mm256_madd_epi16(prod, ones);
}

ES_S8_INLINE __m128i es_s8_row_dot4(const int8_t *a, const int8_t *const w[4], int32_t k) {
  const int8_t *w0 = w[0], *w1 = w[1], *w2 = w[2], *w3 = w[3];
  const __m256i ones = _mm256_set1_epi16(1);
  __m256i c0 = _mm256_setzero_si256(), c1 = c0, c2 = c0, c3 = c0;
  int32_t i = 0;
  for (; i + 32 <= k; i += 32) {
    const __m256i x = _mm256_loadu_si256((const __m256i *)(a + i)), x_abs = _mm256_abs_epi8(x);
    c0 = _mm256_add_epi32(c0, es_s8_dot32(x_abs, x, w0 + i, ones));
    c1 = _mm256_add_epi32(c1, es_s8_dot32(x_abs, x, w1 + i, ones));
    c2 = _mm256_add_epi32(c2, es_s8_dot32(x_abs, x, w2 + i, ones));
    c3 = _mm256_add_epi32(c3, es_s8_dot32(x_abs, x, w3 + i, ones));
  }
  if (i < k) {
    int8_t ta[32] __attribute__((aligned(32))) = {0}, tw[4][32] __attribute__((aligned(32))) = {{0}};
    for (int32_t p = i; p < k; p++) {
      ta[p - i] = a[p];
      tw[0][p - i] = w0[p], tw[1][p - i] = w1[p], tw[2][p - i] = w2[p], tw[3][p - i] = w3[p];
    }
    const __m256i x = _mm256_load_si256((const __m256i *)ta), x_abs = _mm256_abs_epi8(x);
    c0 = _mm256_add_epi32(c0, es_s8_dot32(x_abs, x, tw[0], ones));
    c1 = _mm256_add_epi32(c1, es_s8_dot32(x_abs, x, tw[1], ones));
    c2 = _mm256_add_epi32(c2, es_s8_dot32(x_abs, x, tw[2], ones));
    c3 = _mm256_add_epi32(c3, es_s8_dot32(x_abs, x, tw[3], ones));
  }
  /* [c0 c1 c2 c3] lane sums -> one int32 per column. */
  const __m256i s01 = _mm256_hadd_epi32(c0, c1), s23 = _mm256_hadd_epi32(c2, c3);
  const __m256i s = _mm256_hadd_epi32(s01, s23);
  return _mm_add_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
}

ES_S8_INLINE void es_s8_row_store(__m128i sum, const es_s8_columns *c, const es_s8_output *o, int8_t *out,
                                  int32_t cols) {
  const es_s8_requant8_consts q = es_s8_requant8_make(
      _mm256_zextsi128_si256(_mm_loadu_si128((const __m128i *)c->mult)),
      _mm256_zextsi128_si256(_mm_loadu_si128((const __m128i *)c->shift)), o);
  const __m128i x = _mm_add_epi32(sum, _mm_loadu_si128((const __m128i *)c->bias));
  const int32_t bytes = _mm_cvtsi128_si32(es_s8_bytes8(es_s8_requant8(&q, _mm256_zextsi128_si256(x))));
  if (cols == 4) {
    memcpy(out, &bytes, 4);
    return;
  }
  int8_t all[4];
  memcpy(all, &bytes, 4);
  es_s8_store_partial(all, out, 0, 1, cols);
}

/* The 8 sums of the row x (steps of 32 values) with the 8 weight rows at w, w + stride, ...
 * (read at the same offsets), plus, if last is not NULL, of last (32 values) with the rows
 * at offset last_at: one vector, sum j in lane j. */
ES_S8_INLINE __m256i es_s8_row_sums8(const int8_t *x_row, int32_t steps, const int8_t *last, ptrdiff_t last_at,
                                     const int8_t *w, ptrdiff_t stride) {
  const __m256i ones = _mm256_set1_epi16(1);
  const ptrdiff_t k1 = stride, k2 = 2 * stride, k3 = 3 * stride;
  __m256i c0 = _mm256_setzero_si256(), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0;
#define ES_S8_ROW_STEP(xp, p, q)                                                            \
  {                                                                                         \
    const __m256i x = _mm256_loadu_si256((const __m256i *)(xp)), x_abs = _mm256_abs_epi8(x); \
    c0 = _mm256_add_epi32(c0, es_s8_dot32(x_abs, x, (p), ones));                            \
    c1 = _mm256_add_epi32(c1, es_s8_dot32(x_abs, x, (p) + k1, ones));                       \
    c2 = _mm256_add_epi32(c2, es_s8_dot32(x_abs, x, (p) + k2, ones));                       \
    c3 = _mm256_add_epi32(c3, es_s8_dot32(x_abs, x, (p) + k3, ones));                       \
    c4 = _mm256_add_epi32(c4, es_s8_dot32(x_abs, x, (q), ones));                            \
    c5 = _mm256_add_epi32(c5, es_s8_dot32(x_abs, x, (q) + k1, ones));                       \
    c6 = _mm256_add_epi32(c6, es_s8_dot32(x_abs, x, (q) + k2, ones));                       \
    c7 = _mm256_add_epi32(c7, es_s8_dot32(x_abs, x, (q) + k3, ones));                       \
  }
  const int8_t *p = w, *q = w + 4 * stride;
  for (int32_t st = 0; st < steps; st++, p += 32, q += 32, x_row += 32) ES_S8_ROW_STEP(x_row, p, q)
  if (last) ES_S8_ROW_STEP(last, w + last_at, w + 4 * stride + last_at)
#undef ES_S8_ROW_STEP
  const __m256i h01 = _mm256_hadd_epi32(c0, c1), h23 = _mm256_hadd_epi32(c2, c3);
  const __m256i h45 = _mm256_hadd_epi32(c4, c5), h67 = _mm256_hadd_epi32(c6, c7);
  const __m256i h0123 = _mm256_hadd_epi32(h01, h23), h4567 = _mm256_hadd_epi32(h45, h67);
  return _mm256_add_epi32(_mm256_permute2x128_si256(h0123, h4567, 0x20),
                          _mm256_permute2x128_si256(h0123, h4567, 0x31));
}

/* A lone row times all n columns (batch-1 fully connected): the sign form of es_s8_row_dot4
 * on 8 columns at a time, so that |a| is shared by 8 columns, the 8 sums come out of one
 * reduction as one vector in column order and one es_s8_requant8 requantizes them. The last
 * 1 to 31 values of K: with k >= 32, one more step over the last 32 values, the ones
 * already counted zeroed in a (a zero in a makes its product zero); with k < 32, a and the
 * columns are copied into zero-filled 32-byte buffers, as are the columns of a last group of
 * fewer than 8. */
static __attribute__((noinline, unused)) void es_s8_row_gemm(const int8_t *a, const int8_t *weights, int32_t k,
                                                            int32_t n, const int32_t *bias, const int32_t *mult,
                                                            const int8_t *shift, const es_s8_output *o, int8_t *out) {
  static const int8_t keep_last[64] = {0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
                                       0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
                                       -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
                                       -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1};
  const int32_t steps = k / 32, tail = k % 32;
  int8_t short_a[32] __attribute__((aligned(32))) = {0};
  int8_t last[32] __attribute__((aligned(32))) = {0};
  if (k < 32) {
    memcpy(short_a, a, (size_t)k);
  } else if (tail) {
    _mm256_store_si256((__m256i *)last, _mm256_and_si256(_mm256_loadu_si256((const __m256i *)(a + k - 32)),
                                                         _mm256_loadu_si256((const __m256i *)(keep_last + tail))));
  }
  for (int32_t j0 = 0; j0 < n; j0 += 8) {
    const int32_t cols = n - j0 < 8 ? n - j0 : 8;
    const int8_t *w = weights + (size_t)j0 * k;
    __m256i sum;
    if (cols == 8 && k >= 32) {
      sum = es_s8_row_sums8(a, steps, tail ? last : NULL, k - 32, w, k);
    } else if (k < 32) {
      int8_t short_w[8 * 32] __attribute__((aligned(32))) = {0};
      for (int32_t j = 0; j < cols; j++) {
        const int8_t *src = w + (size_t)j * k;
        int32_t i = 0;
        for (; i + 8 <= k; i += 8) memcpy(short_w + 32 * j + i, src + i, 8);
        for (; i < k; i++) short_w[32 * j + i] = src[i];
      }
      sum = es_s8_row_sums8(short_a, 1, NULL, 0, short_w, 32);
    } else {
      int32_t sums[8] = {0};
      const __m256i ones = _mm256_set1_epi16(1);
      for (int32_t j = 0; j < cols; j++) {
        const int8_t *wj = w + (size_t)j * k;
        __m256i c = _mm256_setzero_si256();
        for (int32_t st = 0; st < steps; st++) {
          const __m256i x = _mm256_loadu_si256((const __m256i *)(a + 32 * st)), x_abs = _mm256_abs_epi8(x);
          c = _mm256_add_epi32(c, es_s8_dot32(x_abs, x, wj + 32 * st, ones));
        }
        if (tail) {
          const __m256i x = _mm256_load_si256((const __m256i *)last), x_abs = _mm256_abs_epi8(x);
          c = _mm256_add_epi32(c, es_s8_dot32(x_abs, x, wj + k - 32, ones));
        }
        const __m128i h = _mm_add_epi32(_mm256_castsi256_si128(c), _mm256_extracti128_si256(c, 1));
        const __m128i h2 = _mm_hadd_epi32(h, h);
        sums[j] = _mm_cvtsi128_si32(_mm_hadd_epi32(h2, h2));
      }
      sum = _mm256_loadu_si256((const __m256i *)sums);
    }
    __m256i b, m, sh;
    if (cols == 8) {
      b = bias ? _mm256_loadu_si256((const __m256i *)(bias + j0)) : _mm256_setzero_si256();
      m = _mm256_loadu_si256((const __m256i *)(mult + j0));
      sh = _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(const void *)(shift + j0)));
    } else {
      int32_t b8[8] = {0}, m8[8] = {0}, s8[8] = {0};
      for (int32_t j = 0; j < cols; j++) {
        b8[j] = bias ? bias[j0 + j] : 0;
        m8[j] = mult[j0 + j];
        s8[j] = shift[j0 + j];
      }
      b = _mm256_loadu_si256((const __m256i *)b8);
      m = _mm256_loadu_si256((const __m256i *)m8);
      sh = _mm256_loadu_si256((const __m256i *)s8);
    }
    const es_s8_requant8_consts q = es_s8_requant8_make(m, sh, o);
    const __m128i bytes = es_s8_bytes8(es_s8_requant8(&q, _mm256_add_epi32(sum, b)));
    if (cols == 8) {
      _mm_storel_epi64((__m128i *)(void *)(out + j0), bytes);
    } else {
      int8_t all[16];
      _mm_storeu_si128((__m128i *)all, bytes);
      es_s8_store_partial(all, out + j0, 0, 1, cols);
    }
  }
}
#else
/* One row against 4 weight rows (see the NEON es_s8_row_dot4): plain loops that gcc
 * vectorizes for the host's CPU, instead of the 4 x 4 tile computing the row four times. */
#define ES_S8_HAS_ROW_DOT4 1
typedef struct {
  int32_t v[4];
} es_s8_row4;

ES_S8_INLINE es_s8_row4 es_s8_row_dot4(const int8_t *a, const int8_t *const w[4], int32_t k) {
  es_s8_row4 sum;
  for (int j = 0; j < 4; j++) {
    const int8_t *wj = w[j];
    int32_t s = 0;
    for (int32_t i = 0; i < k; i++) s += (int32_t)a[i] * (int32_t)wj[i];
    sum.v[j] = s;
  }
  return sum;
}

ES_S8_INLINE void es_s8_row_store(es_s8_row4 sum, const es_s8_columns *c, const es_s8_output *o, int8_t *out,
                                  int32_t cols) {
  for (int32_t j = 0; j < cols; j++)
    out[j] = es_clamp_to_s8(o->out_zp + es_requantize(sum.v[j] + c->bias[j], c->mult[j], c->shift[j]), o->act_min,
                            o->act_max);
}

#endif

ES_S8_INLINE void es_s8_tile_store(const es_s8_tile *t, const es_s8_columns *c, const es_s8_output *o,
                                   int8_t *out, ptrdiff_t ldo, int32_t rows, int32_t cols) {
  for (int32_t r = 0; r < rows; r++)
    for (int32_t j = 0; j < cols; j++)
      out[r * ldo + j] = es_clamp_to_s8(o->out_zp + es_requantize(t->v[r][j] + c->bias[j], c->mult[j], c->shift[j]),
                                        o->act_min, o->act_max);
}

#endif

#endif
