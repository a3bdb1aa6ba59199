/* The AVX2 path of es_gemm_s8 and es_conv2d_s8 (x86 hosts without AVX-512 VNNI; not part of
 * the kernel API).
 *
 * AVX2 has no u8 x s8 dot product that cannot saturate (vpmaddubsw saturates its int16 pair
 * sums), so this path widens both sides to int16 and uses vpmaddwd: two products summed
 * into an int32 lane, exact for any int8 inputs. Weights are packed per call into panels of
 * PANEL2_N columns laid out [K/2][PANEL2_N][2] int16 (one 32-byte load: 2 reduction steps of
 * 8 columns); a block of PANEL2_MR rows is widened to int16 once and shared by every panel
 * of the chunk; each row broadcasts its next 2 int16 values (one 32-bit broadcast) and one
 * vpmaddwd + vpaddd accumulates 8 columns. 6 rows x 16 columns stay in 12 registers; the
 * sums need no horizontal reduction and no bias correction. (The vpabsb / vpsignb /
 * vpmaddubsw form costs two more instructions per 32 products here, where the row is
 * broadcast; it is the one used for a lone row, tile_s8.h.) */
#ifndef EDGESPEC_INT8_PANEL_AVX2_H
#define EDGESPEC_INT8_PANEL_AVX2_H

#include <assert.h>

#include "requant_s8.h"

#if defined(ES_S8_AVX2)

enum {
  PANEL2_N = 16,         /* output columns per panel */
  PANEL2_KMAX = 8192,    /* longest reduction (longer ones take the tile of tile_s8.h) */
  PANEL2_MR = 6,         /* rows per register block */
  PANEL2_BYTES = 1 << 18, /* packed weights of one chunk of panels, on the stack */
  PANEL2_MAX_PANELS = 64  /* panels per chunk */
};

/* Columns per chunk of n columns whose panels hold kp2 pairs: all of them (rounded up to whole
 * panels) if they fit in PANEL2_BYTES and PANEL2_MAX_PANELS, else as many whole panels as do. */
static inline int32_t es_s8_panel2_chunk(int32_t kp2, int32_t n) {
  const int32_t per_panel = kp2 * PANEL2_N * 4;
  int32_t panels = PANEL2_BYTES / per_panel;
  if (panels < 1) panels = 1;
  if (panels > PANEL2_MAX_PANELS) panels = PANEL2_MAX_PANELS;
  const int32_t need = (n + PANEL2_N - 1) / PANEL2_N;
  return (need < panels ? need : panels) * PANEL2_N;
}

/* Requantization constants of one panel's columns. */
typedef struct {
  es_s8_requant8_consts q[2];
  __m256i bias[2];
} es_s8_panel2_cols;

/* Pairs [q0, kp2) of column j of a panel: the column's weights src (NULL: a missing column,
 * zeros). The k weights are nseg segments of seg_len each (conv2d's spans of the input; one
 * segment of k for a matrix); each segment takes seg2 = (seg_len + 1) / 2 pairs, the last
 * zero-padded when seg_len is odd, so that a pair never straddles two segments. */
static inline void es_s8_panel2_pack_tail(int16_t *panel, int32_t j, const int8_t *src, int32_t k, int32_t seg_len,
                                          int32_t q0) {
  const int32_t seg2 = (seg_len + 1) / 2, kp2 = k / seg_len * seg2;
  for (int32_t q = q0; q < kp2; q++) {
    int16_t *dst = panel + (q * PANEL2_N + j) * 2;
    const int32_t i = q % seg2 * 2, at = q / seg2 * seg_len + i;
    dst[0] = src ? src[at] : 0;
    dst[1] = src && i + 1 < seg_len ? src[at + 1] : 0;
  }
}

/* Pairs [0, 8 * blocks) of 8 columns j0.. (weights rows src[0..8)): each column's 16 bytes
 * widened to 8 int16 pairs, and the 8 x 8 matrix of pairs transposed so that each pair
 * step's 8 columns are one 32-byte store. */
static inline void es_s8_panel2_pack8(int16_t *panel, int32_t j0, const int8_t *const src[8], int32_t blocks) {
  for (int32_t b = 0; b < blocks; b++) {
    __m256i r[8];
    for (int j = 0; j < 8; j++) r[j] = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(src[j] + 16 * b)));
    const __m256i t0 = _mm256_unpacklo_epi32(r[0], r[1]), t1 = _mm256_unpackhi_epi32(r[0], r[1]);
    const __m256i t2 = _mm256_unpacklo_epi32(r[2], r[3]), t3 = _mm256_unpackhi_epi32(r[2], r[3]);
    const __m256i t4 = _mm256_unpacklo_epi32(r[4], r[5]), t5 = _mm256_unpackhi_epi32(r[4], r[5]);
    const __m256i t6 = _mm256_unpacklo_epi32(r[6], r[7]), t7 = _mm256_unpackhi_epi32(r[6], r[7]);
    const __m256i u[8] = {_mm256_unpacklo_epi64(t0, t2), _mm256_unpackhi_epi64(t0, t2), _mm256_unpacklo_epi64(t1, t3),
                          _mm256_unpackhi_epi64(t1, t3), _mm256_unpacklo_epi64(t4, t6), _mm256_unpackhi_epi64(t4, t6),
                          _mm256_unpacklo_epi64(t5, t7), _mm256_unpackhi_epi64(t5, t7)};
    int16_t *dst = panel + ((size_t)8 * b * PANEL2_N + j0) * 2;
    for (int q = 0; q < 4; q++) {
      _mm256_store_si256((__m256i *)(dst + q * PANEL2_N * 2), _mm256_permute2x128_si256(u[q], u[q + 4], 0x20));
      _mm256_store_si256((__m256i *)(dst + (q + 4) * PANEL2_N * 2), _mm256_permute2x128_si256(u[q], u[q + 4], 0x31));
    }
  }
}

/* Columns [n0, n0 + cols) of weights [N][k] into p ([kp2][PANEL2_N][2] int16 per panel,
 * panels one after another, missing columns zero; segments of seg_len as in
 * es_s8_panel2_pack_tail) and their constants into c. */
static inline void es_s8_panel2_pack(int16_t *p, es_s8_panel2_cols *c, const int8_t *weights, int32_t k,
                                     int32_t seg_len, int32_t n0, int32_t cols, const int32_t *bias,
                                     const int32_t *mult, const int8_t *shift, const es_s8_output *o) {
  const int32_t kp2 = k / seg_len * ((seg_len + 1) / 2);
  const int32_t blocks = seg_len % 2 == 0 ? k / 16 : 0; /* even segments: pairs are the plain ones */
  for (int32_t j0 = 0; j0 < cols; j0 += PANEL2_N) {
    int16_t *panel = p + (size_t)(j0 / PANEL2_N) * kp2 * PANEL2_N * 2;
    int32_t b[PANEL2_N], m[PANEL2_N], s[PANEL2_N];
    for (int32_t h = 0; h < PANEL2_N; h += 8) {
      const int8_t *src[8];
      const int whole = j0 + h + 8 <= cols; /* 8 real columns: the vector packing */
      for (int32_t j = 0; j < 8; j++) {
        const int valid = j0 + h + j < cols;
        const int32_t col = n0 + j0 + h + j;
        b[h + j] = valid && bias ? bias[col] : 0;
        m[h + j] = valid ? mult[col] : 0;
        s[h + j] = valid ? shift[col] : 0;
        src[j] = valid ? weights + (size_t)col * k : NULL;
      }
      if (whole) es_s8_panel2_pack8(panel, h, src, blocks);
      for (int32_t j = 0; j < 8; j++) es_s8_panel2_pack_tail(panel, h + j, src[j], k, seg_len, whole ? 8 * blocks : 0);
    }
    es_s8_panel2_cols *cc = c + j0 / PANEL2_N;
    for (int h = 0; h < 2; h++) {
      cc->bias[h] = _mm256_loadu_si256((const __m256i *)(b + 8 * h));
      cc->q[h] = es_s8_requant8_make(_mm256_loadu_si256((const __m256i *)(m + 8 * h)),
                                     _mm256_loadu_si256((const __m256i *)(s + 8 * h)), o);
    }
  }
}

/* src[0, k) widened to int16 at dst, 16 at a time up to k rounded up to 16: src must be
 * readable that far, and dst writable. Values past k are whatever src holds there: the
 * panels read at most dst[k] (odd k), against a packed zero weight. */
static inline void es_s8_widen_row_over(int16_t *dst, const int8_t *src, int32_t k) {
  for (int32_t i = 0; i < k; i += 16)
    _mm256_storeu_si256((__m256i *)(dst + i), _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(src + i))));
}

/* Row r of k int8 values -> int16 at dst (rounded up to an even count, the extra one 0). */
static inline void es_s8_widen_row(int16_t *dst, const int8_t *src, int32_t k) {
  int32_t i = 0;
  for (; i + 16 <= k; i += 16)
    _mm256_storeu_si256((__m256i *)(dst + i), _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(src + i))));
  for (; i < k; i++) dst[i] = src[i];
  if (k & 1) dst[k] = 0;
}

/* Rows x[0..rows) (int16, the rest of the PANEL2_MR pointers repeat a valid row) times one
 * panel, requantized into out[r * ldo + j] for j < cols. The rows are read in nseg segments:
 * segment s of row r is seg2 pairs at x[r] + seg_off[s] (a matrix: one segment at offset 0),
 * against the panel's pairs in order. narrow (a constant where inlined): cols <= 8, the
 * second half of the panel is left alone. */
static inline __attribute__((always_inline)) void es_s8_panel2_rows(const int16_t *panel, const es_s8_panel2_cols *c,
                                                                    const int16_t *const x[PANEL2_MR],
                                                                    const ptrdiff_t *seg_off, int32_t nseg,
                                                                    int32_t seg2, int32_t rows, int32_t cols,
                                                                    int8_t *out, ptrdiff_t ldo, const int narrow) {
  __m256i a00 = _mm256_setzero_si256(), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00;
  __m256i a30 = a00, a31 = a00, a40 = a00, a41 = a00, a50 = a00, a51 = a00;
  for (int32_t sg = 0; sg < nseg; sg++) {
    const ptrdiff_t off = seg_off[sg];
    const int16_t *x0 = x[0] + off, *x1 = x[1] + off, *x2 = x[2] + off, *x3 = x[3] + off, *x4 = x[4] + off,
                  *x5 = x[5] + off;
    for (int32_t q = 0; q < seg2; q++, panel += 2 * PANEL2_N) {
      const __m256i w0 = _mm256_load_si256((const __m256i *)panel);
      const __m256i w1 = narrow ? w0 : _mm256_load_si256((const __m256i *)(panel + 16));
      int32_t v;
#define ES_PANEL2_ROW(xr, c0, c1)                                     \
  memcpy(&v, xr + 2 * q, 4);                                          \
  {                                                                   \
    const __m256i b = _mm256_set1_epi32(v);                           \
    c0 = _mm256_add_epi32(c0, _mm256_madd_epi16(b, w0));              \
    if (!narrow) c1 = _mm256_add_epi32(c1, _mm256_madd_epi16(b, w1)); \
  }
      ES_PANEL2_ROW(x0, a00, a01)
      ES_PANEL2_ROW(x1, a10, a11)
      ES_PANEL2_ROW(x2, a20, a21)
      ES_PANEL2_ROW(x3, a30, a31)
      ES_PANEL2_ROW(x4, a40, a41)
      ES_PANEL2_ROW(x5, a50, a51)
#undef ES_PANEL2_ROW
    }
  }
  const __m256i acc[PANEL2_MR][2] = {{a00, a01}, {a10, a11}, {a20, a21}, {a30, a31}, {a40, a41}, {a50, a51}};
  if (narrow) {
    for (int32_t r = 0; r < rows; r++) {
      const __m128i bytes = es_s8_bytes8(es_s8_requant8(&c->q[0], _mm256_add_epi32(acc[r][0], c->bias[0])));
      int8_t *dst = out + r * ldo;
      if (cols == 8) {
        _mm_storel_epi64((__m128i *)(void *)dst, bytes);
      } else {
        int8_t all[16];
        _mm_storeu_si128((__m128i *)all, bytes);
        for (int32_t j = 0; j < cols; j++) dst[j] = all[j];
      }
    }
    return;
  }
  for (int32_t r = 0; r < rows; r++) {
    const __m256i y0 = es_s8_requant8(&c->q[0], _mm256_add_epi32(acc[r][0], c->bias[0]));
    const __m256i y1 = es_s8_requant8(&c->q[1], _mm256_add_epi32(acc[r][1], c->bias[1]));
    /* 16 int32 in [-128, 127] -> 16 bytes in order. */
    const __m256i w16 = _mm256_permute4x64_epi64(_mm256_packs_epi32(y0, y1), 0xd8);
    const __m128i bytes = _mm_packs_epi16(_mm256_castsi256_si128(w16), _mm256_extracti128_si256(w16, 1));
    int8_t *dst = out + r * ldo;
    if (cols >= PANEL2_N) {
      _mm_storeu_si128((__m128i *)dst, bytes);
    } else {
      int8_t all[16];
      _mm_storeu_si128((__m128i *)all, bytes);
      for (int32_t j = 0; j < cols; j++) dst[j] = all[j];
    }
  }
}

/* Rows x[0..rows) (segments as in es_s8_panel2_rows) times the cols packed columns of a
 * chunk (es_s8_panel2_pack), into out[r * ldo + j]. */
static inline __attribute__((always_inline)) void es_s8_panel2_block(const int16_t *packed, const es_s8_panel2_cols *c,
                                                                     int32_t cols, const int16_t *const x[PANEL2_MR],
                                                                     const ptrdiff_t *seg_off, int32_t nseg,
                                                                     int32_t seg2, int32_t rows, int8_t *out,
                                                                     ptrdiff_t ldo) {
  const size_t panel_len = (size_t)nseg * seg2 * PANEL2_N * 2;
  for (int32_t j0 = 0; j0 < cols; j0 += PANEL2_N) {
    const int16_t *panel = packed + (size_t)(j0 / PANEL2_N) * panel_len;
    if (cols - j0 <= 8)
      es_s8_panel2_rows(panel, &c[j0 / PANEL2_N], x, seg_off, nseg, seg2, rows, cols - j0, out + j0, ldo, 1);
    else
      es_s8_panel2_rows(panel, &c[j0 / PANEL2_N], x, seg_off, nseg, seg2, rows, cols - j0 < PANEL2_N ? cols - j0 : PANEL2_N,
                        out + j0, ldo, 0);
  }
}

/* Writes row `row` of the left matrix (k int8 values, widened to int16 by es_s8_widen_row)
 * at dst. */
typedef void (*es_s8_row_source)(const void *ctx, int32_t row, int16_t *dst);

/* out[r * ldo + j] = clamp(out_zp + requant(bias[j] + sum_i row_r[i] * weights[j][i])) for
 * r < m, j < n, k <= PANEL2_KMAX, the rows written by source(ctx, ...) or, with source NULL,
 * the rows of the int8 matrix ctx ([m][k]), whose PANEL2_MR rows of a block are contiguous
 * and widened in one pass (for odd k a row's last pair reads the next row's first value or a
 * zero, against a packed zero weight). Out of line: its stack buffers (the packed panels of
 * one chunk, at most PANEL2_BYTES, and PANEL2_MR widened rows) are sized to the call and
 * reserved only while it runs. */
static __attribute__((noinline, unused)) void es_s8_panel2_matmul(const void *ctx, es_s8_row_source source, int32_t m,
                                                                 int32_t k, const int8_t *weights, int32_t n,
                                                                 const int32_t *bias, const int32_t *mult,
                                                                 const int8_t *shift, const es_s8_output *o,
                                                                 int8_t *out, ptrdiff_t ldo) {
  static_assert(PANEL2_BYTES / (PANEL2_KMAX / 2 * PANEL2_N * 4) >= 1, "one panel of the longest reduction fits");
  const int32_t k2 = (k + 1) / 2, chunk = es_s8_panel2_chunk(k2, n);
  const ptrdiff_t whole_row = 0;
  const int32_t row_stride = source ? (k + 16) & ~15 : k;
  int16_t packed[(size_t)chunk * k2 * 2] __attribute__((aligned(32)));
  int16_t rows_buf[PANEL2_MR * row_stride + 16] __attribute__((aligned(32)));
  es_s8_panel2_cols cols_c[PANEL2_MAX_PANELS];
  for (int32_t n0 = 0; n0 < n; n0 += chunk) {
    const int32_t cols = n - n0 < chunk ? n - n0 : chunk;
    es_s8_panel2_pack(packed, cols_c, weights, k, k, n0, cols, bias, mult, shift, o);
    for (int32_t r0 = 0; r0 < m; r0 += PANEL2_MR) {
      const int32_t rows = m - r0 < PANEL2_MR ? m - r0 : PANEL2_MR;
      const int16_t *x[PANEL2_MR];
      if (!source) {
        const int8_t *a = (const int8_t *)ctx + (size_t)r0 * k;
        const int32_t values = rows * k;
        int32_t i = 0;
        for (; i + 16 <= values; i += 16)
          _mm256_store_si256((__m256i *)(rows_buf + i), _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(a + i))));
        for (; i < values; i++) rows_buf[i] = a[i];
        rows_buf[values] = 0;
      }
      for (int32_t r = 0; r < PANEL2_MR; r++) {
        if (source && r < rows) source(ctx, r0 + r, rows_buf + (size_t)r * row_stride);
        x[r] = rows_buf + (size_t)(r < rows ? r : rows - 1) * row_stride;
      }
      es_s8_panel2_block(packed, cols_c, cols, x, &whole_row, 1, k2, rows, out + (size_t)r0 * ldo + n0, ldo);
    }
  }
}

#endif

#endif
