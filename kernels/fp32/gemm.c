/* es_gemm_f32: out[m][n] = clamp(bias[n] + sum_k a[m][k] * w[k][n]).
 *
 * Tiles of rows x columns (4 x 16 with NEON, 8 x 32 or 6 x 16 with es_v8) are accumulated
 * in registers over the whole of K, so every output is written once. Column strips are
 * outermost so a strip of the weights stays in cache while the rows of `a` stream past it.
 * Edges use narrower strips, then single columns, and single rows. */
#include "gemm_tile.h"

ES_OPTIMIZE_REGISTER_HEAVY

enum { MR = ES_TILE_MR, VL = ES_TILE_VL, NV = ES_TILE_NV };

#if defined(__x86_64__) || defined(__i386__)
/* x86 (host, 8 MiB of stack): a strip whose weight rows lie far apart is first copied into
 * contiguous rows of its own width, in slices of the reduction that fit the conv2d panel's
 * size (the build's ES_FP32_PANEL, chosen from the CPU's caches). With n = 1000 columns each
 * of the strip's k rows sat on its own 4 KiB page, and every block of rows walked all of them
 * again: SqueezeNet's final 1x1 convolution (169 x 512 -> 1000) ran at 7-30 GMAC/s alone,
 * depending on what else ran, 37-45 packed. */
#ifndef ES_FP32_PANEL
#define ES_FP32_PANEL 16384
#endif
#define ES_GEMM_PACK_FLOATS ES_FP32_PANEL
enum { PACK_MIN_ROW_BYTES = 1024 }; /* rows at least this far apart are packed */
#endif

/* All rows of one column strip over reduction indices [k0, k0 + kc): the strip's weights `ws`
 * (rows ldw apart, from row k0), accumulated onto `out` when k0 > 0, clamped when the slice is
 * the last. */
ES_INLINE void strip_rows(const float *a, const float *ws, int32_t ldw, const float *bias, float *out,
                          int32_t m, int32_t k, int32_t k0, int32_t kc, int32_t n, const int nv,
                          const es_kernel_bounds *bounds) {
  const int accumulate = k0 > 0;
  const es_kernel_bounds *b = k0 + kc == k ? bounds : NULL;
  a += k0;
  int32_t r = 0;
#if !ES_NEON
  /* MR - 1 rows per tile where that divides m and MR does not (49 and 196 pixels with MR = 8):
   * rows left over run alone at about a quarter of the tile's rate. */
  if (m % MR != 0 && m % (MR - 1) == 0) {
    for (; r < m; r += MR - 1)
      es_tile(a + (size_t)r * k, k, ws, ldw, bias, out + (size_t)r * n, n, kc, MR - 1, nv, accumulate, b);
    return;
  }
#endif
  for (; r + MR <= m; r += MR)
    es_tile(a + (size_t)r * k, k, ws, ldw, bias, out + (size_t)r * n, n, kc, MR, nv, accumulate, b);
  for (; r < m; r++)
    es_tile(a + (size_t)r * k, k, ws, ldw, bias, out + (size_t)r * n, n, kc, 1, nv, accumulate, b);
}

/* All rows of one column strip of nv * VL columns starting at column n0. */
ES_INLINE void strip(const float *a, const float *w, const float *bias, float *out, int32_t m,
                     int32_t k, int32_t n, int32_t n0, const int nv, const es_kernel_bounds *bounds) {
  const float *bias_n0 = bias ? bias + n0 : NULL;
#ifdef ES_GEMM_PACK_FLOATS
  const int32_t width = nv * VL;
  if (m >= 2 * MR && (size_t)n * sizeof(float) >= PACK_MIN_ROW_BYTES && k > 0) {
    float packed[ES_GEMM_PACK_FLOATS] __attribute__((aligned(64)));
    const int32_t slice = ES_GEMM_PACK_FLOATS / width;
    for (int32_t k0 = 0; k0 < k; k0 += slice) {
      const int32_t kc = ES_MIN(slice, k - k0);
      for (int32_t p = 0; p < kc; p++)
        for (int v = 0; v < nv; v++) {
          const es_v8 x = es_v8_load(w + (size_t)(k0 + p) * n + n0 + VL * v);
          es_v8_store(packed + (size_t)p * width + VL * v, &x);
        }
      /* The next strip's rows lie a page or more apart, where the hardware prefetchers do not
       * follow: ask for them now, so they arrive while this strip's tiles run (the copy's
       * loads were a tenth of the GEMMs' time in EfficientNet-B0, whose weights come from
       * L3 or memory on every invoke). */
      if (n0 + width < n)
        for (int32_t p = 0; p < kc; p++) __builtin_prefetch(w + (size_t)(k0 + p) * n + n0 + width, 0, 2);
      strip_rows(a, packed, width, bias_n0, out + n0, m, k, k0, kc, n, nv, bounds);
    }
    return;
  }
#endif
  strip_rows(a, w + n0, n, bias_n0, out + n0, m, k, 0, k, n, nv, bounds);
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

#if !ES_NEON
/* Rows [r0, r0 + mr) over columns [n0, n0 + nv * ES_VF_LANES): the tile's arithmetic (bias,
 * then k in order: the same sums) with nv vectors per row, so that even a lone row keeps
 * enough independent accumulators to hide the multiply-add latency. In the strips' tiles a
 * lone row had 2 dependent chains: the batch-1 fully connected 640 -> 128 ran at 12 GMAC/s. */
ES_INLINE void wide_tile(const float *a, const float *w, const float *bias, float *out, int32_t k,
                         int32_t n, int32_t n0, const int mr, const int nv, const es_bounds *bounds) {
  es_vf acc[4][8];
  for (int r = 0; r < mr; r++)
    for (int v = 0; v < nv; v++)
      acc[r][v] = bias ? es_vf_load(bias + n0 + ES_VF_LANES * v) : es_vf_splat(0.0f);
  const float *wp = w + n0;
  for (int32_t p = 0; p < k; p++, wp += n) {
    es_vf b[8];
    for (int v = 0; v < nv; v++) b[v] = es_vf_load(wp + ES_VF_LANES * v);
    for (int r = 0; r < mr; r++) {
      const es_vf av = es_vf_splat(a[(size_t)r * k + p]);
      for (int v = 0; v < nv; v++) acc[r][v] += av * b[v];
    }
  }
  for (int r = 0; r < mr; r++)
    for (int v = 0; v < nv; v++) {
      es_vf_bounds_apply(bounds, &acc[r][v]);
      es_vf_store(out + (size_t)r * n + n0 + ES_VF_LANES * v, &acc[r][v]);
    }
}

/* mr rows (a constant) over the columns [0, n_vec): chunks of nv vectors, then halves. */
ES_INLINE void wide_rows(const float *a, const float *w, const float *bias, float *out, int32_t k,
                         int32_t n, int32_t n_vec, const int mr, const int nv, const es_bounds *bounds) {
  int32_t n0 = 0;
  for (; n0 + nv * ES_VF_LANES <= n_vec; n0 += nv * ES_VF_LANES) wide_tile(a, w, bias, out, k, n, n0, mr, nv, bounds);
  if (nv >= 8 && n0 + 4 * ES_VF_LANES <= n_vec) {
    wide_tile(a, w, bias, out, k, n, n0, mr, 4, bounds);
    n0 += 4 * ES_VF_LANES;
  }
  if (nv >= 4 && n0 + 2 * ES_VF_LANES <= n_vec) {
    wide_tile(a, w, bias, out, k, n, n0, mr, 2, bounds);
    n0 += 2 * ES_VF_LANES;
  }
  if (nv >= 2 && n0 + ES_VF_LANES <= n_vec) {
    wide_tile(a, w, bias, out, k, n, n0, mr, 1, bounds);
    n0 += ES_VF_LANES;
  }
#if ES_VF_LANES == 16
  if (n0 < n_vec) { /* one 8-lane vector of columns */
    for (int r = 0; r < mr; r++) {
      es_v8 acc = bias ? es_v8_load(bias + n0) : es_v8_splat(0.0f);
      for (int32_t p = 0; p < k; p++) acc += es_v8_splat(a[(size_t)r * k + p]) * es_v8_load(w + (size_t)p * n + n0);
      es_v8_bounds_apply(bounds, &acc);
      es_v8_store(out + (size_t)r * n + n0, &acc);
    }
  }
#endif
}

/* The rows left over after the strips' full tiles (fewer than MR), over the columns
 * [0, n_vec): about 8-12 accumulators per tile whatever their number. */
static void few_rows(const float *a, const float *w, const float *bias, float *out, int32_t rows,
                     int32_t k, int32_t n, int32_t n_vec, es_bounds bounds) {
  while (rows > 0) {
    const int32_t take = rows >= 3 ? 3 : rows;
    if (take == 3) wide_rows(a, w, bias, out, k, n, n_vec, 3, 4, &bounds);
    else if (take == 2) wide_rows(a, w, bias, out, k, n, n_vec, 2, 4, &bounds);
    else wide_rows(a, w, bias, out, k, n, n_vec, 1, 8, &bounds);
    a += (size_t)take * k;
    out += (size_t)take * n;
    rows -= take;
  }
}
#endif

void es_gemm_f32(const float *a, const float *weights, const float *bias, float *out, int32_t m,
                 int32_t k, int32_t n, float act_min, float act_max) {
  if (m <= 0 || n <= 0 || k < 0) return;
  const es_kernel_bounds bounds = es_kernel_bounds_make(act_min, act_max);
#if ES_NEON
  const int32_t m_tiles = m; /* the strips take every row */
#else
  /* The strips take the rows of whole tiles; few_rows the rest. */
  const int32_t m_tiles = m % MR != 0 && m % (MR - 1) == 0 ? m : m - m % MR;
#endif
  int32_t n0 = 0;
  for (; n0 + NV * VL <= n; n0 += NV * VL) strip(a, weights, bias, out, m_tiles, k, n, n0, NV, &bounds);
  /* Narrower strips for what is left: NV/2, NV/4, ... vectors. */
  if (NV >= 4 && n0 + 2 * VL <= n) {
    strip(a, weights, bias, out, m_tiles, k, n, n0, 2, &bounds);
    n0 += 2 * VL;
  }
  if (NV >= 2 && n0 + VL <= n) {
    strip(a, weights, bias, out, m_tiles, k, n, n0, 1, &bounds);
    n0 += VL;
  }
#if !ES_NEON
  if (m_tiles < m)
    few_rows(a + (size_t)m_tiles * k, weights, bias, out + (size_t)m_tiles * n, m - m_tiles, k, n, n0,
             es_bounds_make(act_min, act_max));
#endif
  if (n0 < n) scalar_columns(a, weights, bias, out, m, k, n, n0, es_bounds_make(act_min, act_max));
}
