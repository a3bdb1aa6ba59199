/* es_gemm_f32: out[m][n] = clamp(bias[n] + sum_k a[m][k] * w[k][n]).
 *
 * Tiles of rows x columns (4 x 16 with NEON, 8 x 32 or 6 x 16 with es_v8) are accumulated
 * in registers over the whole of K, so every output is written once. Column strips are
 * outermost so a strip of the weights stays in cache while the rows of `a` stream past it.
 * Edges use narrower strips, then single columns, and single rows. */
#include "gemm_tile.h"

ES_OPTIMIZE_REGISTER_HEAVY

enum { MR = ES_TILE_MR, VL = ES_TILE_VL, NV = ES_TILE_NV };

/* All rows of one column strip of nv * VL columns starting at column n0. */
ES_INLINE void strip(const float *a, const float *w, const float *bias, float *out, int32_t m,
                     int32_t k, int32_t n, int32_t n0, const int nv, const es_kernel_bounds *bounds) {
  const float *bias_n0 = bias ? bias + n0 : NULL;
  int32_t r = 0;
#if !ES_NEON
  /* MR - 1 rows per tile where that divides m and MR does not (49 and 196 pixels with MR = 8):
   * rows left over run alone at about a quarter of the tile's rate. */
  if (m % MR != 0 && m % (MR - 1) == 0) {
    for (; r < m; r += MR - 1)
      es_tile(a + (size_t)r * k, k, w + n0, n, bias_n0, out + (size_t)r * n + n0, n, k, MR - 1, nv, 0, bounds);
    return;
  }
#endif
  for (; r + MR <= m; r += MR)
    es_tile(a + (size_t)r * k, k, w + n0, n, bias_n0, out + (size_t)r * n + n0, n, k, MR, nv, 0, bounds);
  for (; r < m; r++)
    es_tile(a + (size_t)r * k, k, w + n0, n, bias_n0, out + (size_t)r * n + n0, n, k, 1, nv, 0, bounds);
}

/* Columns left over after the vector strips (fewer than VL): plain dot products. */
static void scalar_columns(const float *a, const float *w, const float *bias, float *out,
                           int32_t m, int32_t k, int32_t n, int32_t n0, es_bounds bounds) {
  for (int32_t r = 0; r < m; r++) {
    const float *ar = a + (size_t)r * k;
    for (int32_t j = n0; j < n; j++) {
      float acc = bias ? bias[j] : 0.0f;
      for (int32_t p = 0; p < k; p++) acc += ar[p] * w[(size_t)p * n + j];
      out[(size_t)r * n + j] = es_bounds_apply(bounds, acc);
    }
  }
}

void es_gemm_f32(const float *a, const float *weights, const float *bias, float *out, int32_t m,
                 int32_t k, int32_t n, float act_min, float act_max) {
  if (m <= 0 || n <= 0 || k < 0) return;
  const es_kernel_bounds bounds = es_kernel_bounds_make(act_min, act_max);
  int32_t n0 = 0;
  for (; n0 + NV * VL <= n; n0 += NV * VL) strip(a, weights, bias, out, m, k, n, n0, NV, &bounds);
  /* Narrower strips for what is left: NV/2, NV/4, ... vectors. */
  if (NV >= 4 && n0 + 2 * VL <= n) {
    strip(a, weights, bias, out, m, k, n, n0, 2, &bounds);
    n0 += 2 * VL;
  }
  if (NV >= 2 && n0 + VL <= n) {
    strip(a, weights, bias, out, m, k, n, n0, 1, &bounds);
    n0 += VL;
  }
  if (n0 < n) scalar_columns(a, weights, bias, out, m, k, n, n0, es_bounds_make(act_min, act_max));
}
