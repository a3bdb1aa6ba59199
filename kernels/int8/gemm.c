/* es_gemm_s8: out[m][n] = requant(bias[n] + sum_k a[m][k] * w[n][k]).
 *
 * 4 x 4 tiles of tile_s8.h over the whole of K, each output written once. Columns are the
 * outer loop, in groups of 4: a group's constants (bias less the column offset, mult,
 * shift) are made once and its 4 weight rows stay in cache while the rows of `a` stream
 * past. Edge rows and columns repeat the last valid one inside the tile, except a lone row
 * (batch 1, or the last of a tall matrix), which NEON computes once (es_s8_row_dot4).
 * With AVX-512 VNNI, K <= PANEL_KMAX and at least PANEL_MIN_ROWS rows (or any rows when the weights
 * stay packed for a pack slot), sets of panels of 32 packed columns times blocks of 8 rows
 * with their sign bits flipped (panel_vnni.h), and a lone row otherwise es_s8_vnni_row_gemm; with AVX2 (no VNNI), K <= PANEL2_KMAX and at least 2 rows, the int16
 * panels of panel_avx2.h. */
#include "panel_avx2.h"
#include "panel_vnni.h"
#include "tile_s8.h"

ES_S8_REGISTER_HEAVY

void es_gemm_s8(const int8_t *a, const int8_t *weights, const int32_t *bias, int8_t *out,
                int32_t m, int32_t k, int32_t n, int32_t out_zp, const int32_t *mult,
                const int8_t *shift, int32_t act_min, int32_t act_max, int32_t pack_slot) {
  if (m <= 0 || n <= 0) return;
  (void)pack_slot; /* used by the VNNI panels only */
  const es_s8_output o = {out_zp, act_min, act_max};
#if defined(ES_S8_VNNI)
  /* weights packed once for a pack slot (kernels_int8.h) */
  const es_s8_packed *cached = k <= PANEL_KMAX ? es_s8_panel_cache(pack_slot, weights, k, k, 1, n, bias, mult, shift) : NULL;
  if (m == 1 && !cached) {
    es_s8_vnni_row_gemm(a, weights, k, n, bias, mult, shift, &o, out);
    return;
  }
  if (k <= PANEL_KMAX && (m >= PANEL_MIN_ROWS || cached)) {
    es_s8_panel_room room;
    uint8_t rows_buf[2][PANEL_MR][PANEL_ROW_BYTES] __attribute__((aligned(64)));
    const int32_t per_set = es_s8_panel_set_columns(k);
    const int8_t *end = a + (size_t)m * k;
    for (int32_t n0 = 0; n0 < n; n0 += per_set) {
      const es_s8_panel_set set = cached ? cached->set[n0 / per_set]
                                         : es_s8_panel_pack_group(room.w, room.c, weights, k, k, n, 0, n0, per_set, bias, mult, shift);
      int32_t r0 = 0;
      if (k <= 16 && k % 4 == 0) /* whole blocks straight from a */
        for (; r0 + PANEL_MR <= m; r0 += PANEL_MR) es_s8_panel_set_rows_direct(&set, a + (size_t)r0 * k, k, PANEL_MR, &o, out + (size_t)r0 * n + n0, n);
      /* Each block's rows are flipped a block before they are multiplied (as in conv2d.c). */
      for (int32_t i = 0, first = r0; r0 < m + PANEL_MR; r0 += PANEL_MR, i ^= 1) {
        if (r0 < m) {
          /* the rows es_s8_panel_set_rows reads: 1, 4 or 8 (past m, the last row again) */
          const int32_t read = m - r0 == 1 ? 1 : m - r0 <= 4 ? 4 : PANEL_MR;
          for (int32_t r = 0; r < read; r++) es_s8_flip_copy(rows_buf[i][r], a + (size_t)(r0 + r < m ? r0 + r : m - 1) * k, k, end);
        }
        if (r0 == first) continue;
        const int32_t q0 = r0 - PANEL_MR, rows = m - q0 < PANEL_MR ? m - q0 : PANEL_MR;
        es_s8_panel_set_rows(&set, rows_buf[i ^ 1][0], rows, &o, out + (size_t)q0 * n + n0, n);
      }
    }
    return;
  }
#elif defined(ES_S8_AVX2)
  if (m == 1) {
    es_s8_row_gemm(a, weights, k, n, bias, mult, shift, &o, out);
    return;
  }
  if (k <= PANEL2_KMAX) {
    es_s8_panel2_matmul(a, NULL, m, k, weights, n, bias, mult, shift, &o, out, n);
    return;
  }
#endif
  int32_t j_first = 0;
#if defined(ES_S8_HAS_ROW_GEMM8)
  if (m == 1) { /* batch 1: whole groups of 8 columns, the rest below */
    j_first = n / 8 * 8;
    es_s8_row_gemm8(a, weights, k, j_first, bias, mult, shift, &o, out);
  }
#endif
  for (int32_t j0 = j_first; j0 < n; j0 += 4) {
    const int32_t cols = n - j0 < 4 ? n - j0 : 4;
    es_s8_columns c;
    es_s8_columns_make(&c, weights, k, bias, mult, shift, j0, cols);
    const int8_t *w[4];
    for (int32_t j = 0; j < 4; j++) w[j] = weights + (size_t)(j0 + (j < cols ? j : cols - 1)) * k;
    for (int32_t r0 = 0; r0 < m; r0 += 4) {
      const int32_t rows = m - r0 < 4 ? m - r0 : 4;
#if defined(ES_S8_HAS_ROW_DOT4)
      if (rows == 1) { /* batch 1, or the last row: one row, not the same row four times */
        es_s8_row_store(es_s8_row_dot4(a + (size_t)r0 * k, w, k), &c, &o, out + (size_t)r0 * n + j0, cols);
        continue;
      }
#endif
      const int8_t *rp[4];
      for (int32_t r = 0; r < 4; r++) rp[r] = a + (size_t)(r0 + (r < rows ? r : rows - 1)) * k;
      es_s8_tile t = es_s8_tile_zero();
      es_s8_tile_dot(&t, rp, w, k);
      es_s8_tile_store(&t, &c, &o, out + (size_t)r0 * n + j0, n, rows, cols);
    }
  }
}
