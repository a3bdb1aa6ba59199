/* The register tile shared by es_gemm_f32 and es_conv2d_f32:
 *   out[r][c] (+)= sum_p a[r][p] * w[p][c]   for r < mr, c < nv * ES_TILE_VL
 * accumulated in registers over all of k and written once. `accumulate` starts from what
 * `out` holds (a later slice of k), else from `bias` (or 0); `bounds` (or NULL) clamps the
 * stored result. mr and nv must be constants where es_tile is inlined. */
#ifndef EDGESPEC_FP32_GEMM_TILE_H
#define EDGESPEC_FP32_GEMM_TILE_H

#include "internal.h"

/* Clamps rows x cols outputs in place. Out of line, so that the clamp's constants are not
 * live (and spilled) across the tile's inner loop. One copy per file (noclone: GCC made two
 * clones of 0.4 KB each in gemm.c and conv2d.c); the bounds are copied first so that they
 * are not reloaded after every store through `out`. */
static __attribute__((noinline, noclone)) void es_tile_clamp(float *out, int32_t ldo, int32_t rows,
                                                             int32_t cols, const es_kernel_bounds *bounds) {
  const es_kernel_bounds b = *bounds;
  for (int32_t r = 0; r < rows; r++) {
    float *row = out + (size_t)r * ldo;
#if ES_NEON
    for (int32_t c = 0; c < cols; c += 4) vst1q_f32(row + c, es_bounds4_apply(&b, vld1q_f32(row + c)));
#else
    for (int32_t c = 0; c < cols; c += 8) {
      es_v8 v = es_v8_load(row + c);
      es_v8_bounds_apply(&b, &v);
      es_v8_store(row + c, &v);
    }
#endif
  }
}

#if ES_NEON

/* A tile is ES_TILE_MR rows x ES_TILE_NV vectors of ES_TILE_VL columns. */
enum { ES_TILE_MR = 4, ES_TILE_VL = 4, ES_TILE_NV = 4 };

/* mr rows x nv vectors; mr and nv are constants at every call site, so the accumulator
 * arrays live in registers. Per 4 steps of K: 4 loads of `a`, 4 x nv loads of weights and
 * 16 x nv multiply-adds by lane. */
ES_INLINE void es_tile(const float *a, int32_t lda, const float *w, int32_t ldw,
                       const float *bias, float *out, int32_t ldo, int32_t k, const int mr,
                       const int nv, int accumulate, const es_kernel_bounds *bounds) {
  float32x4_t acc[ES_TILE_MR][ES_TILE_NV];
  for (int r = 0; r < mr; r++)
    for (int v = 0; v < nv; v++)
      acc[r][v] = accumulate ? vld1q_f32(out + (size_t)r * ldo + 4 * v)
                  : bias     ? vld1q_f32(bias + 4 * v)
                             : vdupq_n_f32(0.0f);

  int32_t p = 0;
  for (; p + 4 <= k; p += 4) {
    float32x4_t av[ES_TILE_MR];
    for (int r = 0; r < mr; r++) av[r] = vld1q_f32(a + (size_t)r * lda + p);
#define ES_GEMM_STEP(lane)                                                        \
  do {                                                                            \
    const float *wp = w + (size_t)(p + (lane)) * ldw;                             \
    float32x4_t b[ES_TILE_NV];                                                    \
    for (int v = 0; v < nv; v++) b[v] = vld1q_f32(wp + 4 * v);                    \
    for (int r = 0; r < mr; r++)                                                  \
      for (int v = 0; v < nv; v++) acc[r][v] = vfmaq_laneq_f32(acc[r][v], b[v], av[r], lane); \
  } while (0)
    ES_GEMM_STEP(0);
    ES_GEMM_STEP(1);
    ES_GEMM_STEP(2);
    ES_GEMM_STEP(3);
#undef ES_GEMM_STEP
  }
  for (; p < k; p++) {
    const float *wp = w + (size_t)p * ldw;
    float32x4_t b[ES_TILE_NV];
    for (int v = 0; v < nv; v++) b[v] = vld1q_f32(wp + 4 * v);
    for (int r = 0; r < mr; r++) {
      const float32x4_t ar = vld1q_dup_f32(a + (size_t)r * lda + p);
      for (int v = 0; v < nv; v++) acc[r][v] = vfmaq_f32(acc[r][v], b[v], ar);
    }
  }

  for (int r = 0; r < mr; r++)
    for (int v = 0; v < nv; v++) vst1q_f32(out + (size_t)r * ldo + 4 * v, acc[r][v]);
  if (bounds) es_tile_clamp(out, ldo, mr, nv * 4, bounds);
}

#else

/* With AVX-512's 32 registers 8 x 32 ran at
 * 40-56 GMAC/s on this project's hosts; elsewhere 6 x 16 (12 accumulators) fits the 16
 * registers of AVX2 (30-34 GMAC/s). ES_FP32_SPLIT_512 (from the build, src/toolchain/build/
 * fp32Blocking.ts): an AVX-512 CPU whose multiply-add units are 256 bits wide and split each
 * 512-bit one in two (AMD Zen 4). There the 8 x 32 tile in 16-lane vectors ran 2-25 % slower
 * than 6 x 16 in 8-lane ones on every GEMM of MobileNetV2 (12544 x 32 x 16: 37 against 49
 * GMAC/s; a 12 x 16 tile 0-10 % slower, 8 x 16 10-20 %), but 9-20 % faster on the long
 * reductions of conv2d.c's gathered patches (ResNet18's 3x3 512 -> 512 at 7x7: 48 against 44
 * GMAC/s), so a file that includes this one with ES_TILE_LONG_REDUCTIONS defined (conv2d.c)
 * keeps it. */
#if defined(__AVX512F__) && (!defined(ES_FP32_SPLIT_512) || defined(ES_TILE_LONG_REDUCTIONS))
#define ES_TILE_WIDE 1 /* pairs of 8-lane vectors run as 16-lane ones (es_tile below) */
enum { ES_TILE_MR = 8, ES_TILE_VL = 8, ES_TILE_NV = 4 };
#else
enum { ES_TILE_MR = 6, ES_TILE_VL = 8, ES_TILE_NV = 2 };
#endif

/* Hides p's value from the optimizer here, so nothing read through it is hoisted above: with
 * the bounds loaded before the loop over K, GCC kept the weight vectors on the stack
 * (K = 96, 32 columns: 52 -> 31 GMAC/s). */
#define ES_OPAQUE(p) __asm__("" : "+r"(p))

/* The accumulators of a tile: from `out` (a later slice of K), else `bias`, else 0. The loops
 * over rows and vectors, here and below, are unrolled in full so that GCC keeps the
 * accumulators in registers: without that it built the array on the stack at the tile's
 * start, wrote it back after the loop over K and stored it to `out` from there (at K = 8..32
 * a third of the time). */
#define ES_TILE_START(VEC, LANES, LOAD, SPLAT)                                              \
  VEC acc[ES_TILE_MR][ES_TILE_NV];                                                           \
  if (accumulate) {                                                                          \
    _Pragma("GCC unroll 16") for (int r = 0; r < mr; r++)                                    \
    _Pragma("GCC unroll 8") for (int v = 0; v < nv; v++)                                     \
      acc[r][v] = LOAD(out + (size_t)r * ldo + LANES * v);                                   \
  } else {                                                                                   \
    VEC start[ES_TILE_NV];                                                                   \
    _Pragma("GCC unroll 8") for (int v = 0; v < nv; v++)                                     \
      start[v] = bias ? LOAD(bias + LANES * v) : SPLAT(0.0f);                                \
    _Pragma("GCC unroll 16") for (int r = 0; r < mr; r++)                                    \
    _Pragma("GCC unroll 8") for (int v = 0; v < nv; v++) acc[r][v] = start[v];               \
  }

/* Stores the accumulators, clamped in registers when the tile is full width. */
#define ES_TILE_FINISH(LANES, STORE, CLAMP)                                                 \
  const int full_width = nv * LANES == ES_TILE_NV * ES_TILE_VL;                               \
  ES_OPAQUE(bounds);                                                                         \
  if (bounds && full_width)                                                                  \
    _Pragma("GCC unroll 16") for (int r = 0; r < mr; r++)                                    \
    _Pragma("GCC unroll 8") for (int v = 0; v < nv; v++) CLAMP(bounds, &acc[r][v]);          \
  _Pragma("GCC unroll 16") for (int r = 0; r < mr; r++)                                      \
  _Pragma("GCC unroll 8") for (int v = 0; v < nv; v++)                                       \
    STORE(out + (size_t)r * ldo + LANES * v, &acc[r][v]);                                    \
  if (bounds && !full_width) es_tile_clamp(out, ldo, mr, nv * LANES, bounds);

/* NAME(a, lda, w, ldw, bias, out, ldo, k, mr, nv, accumulate, bounds): the tile in nv
 * vectors of type VEC (LANES floats) per row. A full-width tile (nv * LANES = ES_TILE_NV *
 * ES_TILE_VL) is clamped in registers before its one store: at small K a second pass over
 * the stored tile cost a sixth of the time (K = 24..64 ran 40-50 -> 47-55 GMAC/s with
 * AVX-512). Narrower tiles ran slower that way (8 columns: 42 -> 30 GMAC/s) and keep
 * es_tile_clamp. */
#define ES_DEFINE_TILE(NAME, VEC, LANES, LOAD, STORE, SPLAT, CLAMP)                          \
  ES_INLINE void NAME(const float *a, int32_t lda, const float *w, int32_t ldw,              \
                      const float *bias, float *out, int32_t ldo, int32_t k, const int mr,   \
                      const int nv, int accumulate, const es_kernel_bounds *bounds) {        \
    ES_TILE_START(VEC, LANES, LOAD, SPLAT)                                                   \
    for (int32_t p = 0; p < k; p++) {                                                        \
      const float *wp = w + (size_t)p * ldw;                                                 \
      VEC b[ES_TILE_NV];                                                                     \
      _Pragma("GCC unroll 8") for (int v = 0; v < nv; v++) b[v] = LOAD(wp + LANES * v);      \
      _Pragma("GCC unroll 16") for (int r = 0; r < mr; r++) {                                \
        const VEC av = SPLAT(a[(size_t)r * lda + p]);                                        \
        _Pragma("GCC unroll 8") for (int v = 0; v < nv; v++) acc[r][v] += av * b[v];         \
      }                                                                                      \
    }                                                                                        \
    ES_TILE_FINISH(LANES, STORE, CLAMP)                                                      \
  }

ES_DEFINE_TILE(es_tile_v8, es_v8, 8, es_v8_load, es_v8_store, es_v8_splat, es_v8_bounds_apply)
#ifdef ES_TILE_WIDE
ES_DEFINE_TILE(es_tile_vf, es_vf, 16, es_vf_load, es_vf_store, es_vf_splat, es_vf_bounds_apply)
#endif

/* NAME(a, lda, n_seg, seg_offset, seg_len, w, ldw, bias, out, ldo, mr, nv, accumulate,
 * bounds): the tile over the reduction indices of n_seg segments in turn, index p of segment
 * s of row r read at a[r * lda + seg_offset[s] + p] (p < seg_len[s]), the weights' rows
 * following one another: a convolution reads its patches in place from the input. Kept
 * apart from ES_DEFINE_TILE: a segment loop there, even of one segment, made GCC's register
 * allocation of the GEMM 3-5 % slower. */
#define ES_DEFINE_TILE_SEGMENTS(NAME, VEC, LANES, LOAD, STORE, SPLAT, CLAMP)                 \
  ES_INLINE void NAME(const float *a, int32_t lda, int32_t n_seg, const int32_t *seg_offset, \
                      const int32_t *seg_len, const float *w, int32_t ldw, const float *bias, \
                      float *out, int32_t ldo, const int mr, const int nv, int accumulate,   \
                      const es_kernel_bounds *bounds) {                                      \
    ES_TILE_START(VEC, LANES, LOAD, SPLAT)                                                   \
    for (int32_t s = 0; s < n_seg; s++) {                                                    \
      const float *as = a + seg_offset[s];                                                   \
      for (int32_t p = 0; p < seg_len[s]; p++, w += ldw) {                                   \
        VEC b[ES_TILE_NV];                                                                   \
        _Pragma("GCC unroll 8") for (int v = 0; v < nv; v++) b[v] = LOAD(w + LANES * v);     \
        _Pragma("GCC unroll 16") for (int r = 0; r < mr; r++) {                              \
          const VEC av = SPLAT(as[(size_t)r * lda + p]);                                     \
          _Pragma("GCC unroll 8") for (int v = 0; v < nv; v++) acc[r][v] += av * b[v];       \
        }                                                                                    \
      }                                                                                      \
    }                                                                                        \
    ES_TILE_FINISH(LANES, STORE, CLAMP)                                                      \
  }

ES_DEFINE_TILE_SEGMENTS(es_tile_segments_v8, es_v8, 8, es_v8_load, es_v8_store, es_v8_splat,
                        es_v8_bounds_apply)
#ifdef ES_TILE_WIDE
ES_DEFINE_TILE_SEGMENTS(es_tile_segments_vf, es_vf, 16, es_vf_load, es_vf_store, es_vf_splat,
                        es_vf_bounds_apply)
#endif

ES_INLINE void es_tile_segments(const float *a, int32_t lda, int32_t n_seg, const int32_t *seg_offset,
                                const int32_t *seg_len, const float *w, int32_t ldw,
                                const float *bias, float *out, int32_t ldo, const int mr,
                                const int nv, int accumulate, const es_kernel_bounds *bounds) {
#ifdef ES_TILE_WIDE
  if (nv % 2 == 0)
    es_tile_segments_vf(a, lda, n_seg, seg_offset, seg_len, w, ldw, bias, out, ldo, mr, nv / 2,
                        accumulate, bounds);
  else
#endif
    es_tile_segments_v8(a, lda, n_seg, seg_offset, seg_len, w, ldw, bias, out, ldo, mr, nv,
                        accumulate, bounds);
}

/* With AVX-512, pairs of 8-lane vectors run as one 16-lane vector: the 8 x 32 tile in 8-lane
 * vectors needs 32 accumulators + 4 weight vectors + 1 broadcast, more than the 32 registers,
 * and GCC kept 5 accumulators on the stack (a load and a store each per step of K); in 16
 * accumulators nothing spills. ResNet18 host 40.0 -> 38.9 ms, MobileNetV2 unchanged. The
 * layout stays 8-lane vectors, so odd strips (8 columns) still take es_v8. */
ES_INLINE void es_tile(const float *a, int32_t lda, const float *w, int32_t ldw,
                       const float *bias, float *out, int32_t ldo, int32_t k, const int mr,
                       const int nv, int accumulate, const es_kernel_bounds *bounds) {
#ifdef ES_TILE_WIDE
  if (nv % 2 == 0)
    es_tile_vf(a, lda, w, ldw, bias, out, ldo, k, mr, nv / 2, accumulate, bounds);
  else
#endif
    es_tile_v8(a, lda, w, ldw, bias, out, ldo, k, mr, nv, accumulate, bounds);
}

#endif

#endif
