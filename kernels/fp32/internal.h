/* Helpers shared by the fp32 kernels. Not part of the kernel API. */
#ifndef EDGESPEC_FP32_INTERNAL_H
#define EDGESPEC_FP32_INTERNAL_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "edgespec/kernels.h"

/* ES_NEON selects the hand-written Advanced SIMD paths; -DES_NO_NEON forces the portable
 * loops on AArch64 too (the tests build both). */
#if defined(__ARM_NEON) && !defined(ES_NO_NEON)
#define ES_NEON 1
#include <arm_neon.h>
#else
#define ES_NEON 0
#endif

/* GCC's first scheduling pass hoists loads far ahead of their use and makes register-
 * blocked NEON loops spill (the 4x16 GEMM tile went from 97 to 91 instructions per 4 steps
 * of K without it). Placed at the top of the files whose inner loops are register-bound. */
#if ES_NEON && defined(__GNUC__) && !defined(__clang__)
#define ES_OPTIMIZE_REGISTER_HEAVY _Pragma("GCC optimize(\"no-schedule-insns\")")
#else
#define ES_OPTIMIZE_REGISTER_HEAVY
#endif

#define ES_INLINE static inline __attribute__((always_inline))

/* The portable fast paths use GNU C vector extensions (GCC, Clang): the compiler lowers
 * es_v8 onto whatever SIMD the target has (AVX, SSE, Advanced SIMD). Plain loops were not
 * reliably auto-vectorized: GCC 12 ran the same GEMM tile at 4 to 49 GMAC/s on an AVX-512
 * host depending on its shape, against 30 to 57 with es_v8. */
#if !defined(__GNUC__)
#error "edgespec kernels need GCC or Clang (GNU C vector extensions)"
#endif
typedef float es_v8 __attribute__((vector_size(32)));
typedef int32_t es_v8i __attribute__((vector_size(32)));
#if !defined(__clang__)
/* es_v8 only passes between always-inline functions, so the x86 note that returning it
 * without AVX has another ABI does not apply. */
#pragma GCC diagnostic ignored "-Wpsabi"
#endif

ES_INLINE es_v8 es_v8_load(const float *p) {
  es_v8 v;
  memcpy(&v, p, sizeof v); /* unaligned */
  return v;
}

ES_INLINE void es_v8_store(float *p, const es_v8 *v) { memcpy(p, v, sizeof *v); }

ES_INLINE es_v8 es_v8_splat(float x) { return (es_v8){x, x, x, x, x, x, x, x}; }

/* Transposes the 8 x 8 block r in registers: three rounds of two-input shuffles (unpack,
 * pairs, 128-bit halves on AVX). Used by the conv2d weight packing and by transpose.c. */
ES_INLINE void es_v8_transpose8(es_v8 r[8]) {
  const es_v8i lo = {0, 8, 1, 9, 4, 12, 5, 13}, hi = {2, 10, 3, 11, 6, 14, 7, 15};
  const es_v8i pairs_lo = {0, 1, 8, 9, 4, 5, 12, 13}, pairs_hi = {2, 3, 10, 11, 6, 7, 14, 15};
  const es_v8i halves_lo = {0, 1, 2, 3, 8, 9, 10, 11}, halves_hi = {4, 5, 6, 7, 12, 13, 14, 15};
  es_v8 t[8], u[8];
  for (int i = 0; i < 8; i += 2) {
    t[i] = __builtin_shuffle(r[i], r[i + 1], lo);
    t[i + 1] = __builtin_shuffle(r[i], r[i + 1], hi);
  }
  for (int i = 0; i < 8; i += 4)
    for (int h = 0; h < 2; h++) {
      u[i + 2 * h] = __builtin_shuffle(t[i + h], t[i + h + 2], pairs_lo);
      u[i + 2 * h + 1] = __builtin_shuffle(t[i + h], t[i + h + 2], pairs_hi);
    }
  for (int i = 0; i < 4; i++) {
    r[i] = __builtin_shuffle(u[i], u[i + 4], halves_lo);
    r[i + 4] = __builtin_shuffle(u[i], u[i + 4], halves_hi);
  }
}

#define ES_MIN(a, b) ((a) < (b) ? (a) : (b))
#define ES_MAX(a, b) ((a) > (b) ? (a) : (b))

/* Fused activation bounds, classified once per kernel call. */
typedef struct {
  float lo, hi;
  int has_lo, has_hi; /* a bound of -inf / +inf (or NaN) clamps nothing */
} es_bounds;

ES_INLINE es_bounds es_bounds_make(float lo, float hi) {
  es_bounds b = {lo, hi, lo > -INFINITY, hi < INFINITY};
  return b;
}

/* Two selects, not fminf/fmaxf: NaN passes through as in PyTorch. */
ES_INLINE float es_bounds_apply(es_bounds b, float v) {
  if (b.has_lo) v = v < b.lo ? b.lo : v;
  if (b.has_hi) v = v > b.hi ? b.hi : v;
  return v;
}

#if ES_NEON
/* Vector clamp. Under QEMU's TCG, FMAX/FMIN cost about three FMLAs each while integer
 * compares and selects are nearly free, so the common bounds work branch-free on the bit
 * patterns (NaN passes through unchanged):
 * - lower bound 0 (relu): the negative non-NaN floats are exactly the bit patterns below
 *   0xff800001 as signed integers; they become +0. No lower bound: the threshold is
 *   INT32_MIN and nothing is below it.
 * - upper bound > 0 (relu6) or none (+inf): a value is above it iff its bits compare
 *   greater as signed integers and it is not NaN (bits <= 0x7f800000).
 * Other bounds (negative upper, non-zero lower) take a float compare and a bit select. */
typedef struct {
  int32x4_t lo_threshold, hi_bits;
  float32x4_t lo, hi;
  int general;
} es_bounds4;

ES_INLINE es_bounds4 es_bounds4_make(float lo, float hi) {
  es_bounds4 b;
  const int lo_none = !(lo > -INFINITY), hi_none = !(hi < INFINITY);
  b.general = !((lo_none || lo == 0.0f) && (hi_none || hi > 0.0f));
  b.lo_threshold = vdupq_n_s32(lo_none ? INT32_MIN : (int32_t)0xff800001u);
  b.hi = vdupq_n_f32(hi_none ? INFINITY : hi);
  b.hi_bits = vreinterpretq_s32_f32(b.hi);
  b.lo = vdupq_n_f32(lo);
  return b;
}

ES_INLINE float32x4_t es_bounds4_apply(const es_bounds4 *b, float32x4_t v) {
  if (__builtin_expect(b->general, 0)) {
    if (vgetq_lane_f32(b->lo, 0) > -INFINITY) v = vbslq_f32(vcgtq_f32(b->lo, v), b->lo, v);
    return vbslq_f32(vcgtq_f32(v, b->hi), b->hi, v); /* false for NaN and for hi = +inf */
  }
  int32x4_t bits = vreinterpretq_s32_f32(v);
  bits = vbicq_s32(bits, vreinterpretq_s32_u32(vcltq_s32(bits, b->lo_threshold)));
  const uint32x4_t above = vandq_u32(vcgtq_s32(bits, b->hi_bits), vcleq_s32(bits, vdupq_n_s32(0x7f800000)));
  return vbslq_f32(above, b->hi, vreinterpretq_f32_s32(bits));
}
#endif

/* NAME(b, v): clamps the lanes of *v (vector type VEC, its integer twin VECI) in place, with
 * the same NaN behaviour as es_bounds_apply (compares are false). By pointer, as a 32-byte
 * vector argument draws GCC's x86 ABI note when AVX is off. */
#define ES_DEFINE_BOUNDS_APPLY(NAME, VEC, VECI, SPLAT)                  \
  ES_INLINE void NAME(const es_bounds *b, VEC *v) {                     \
    if (b->has_lo) {                                                    \
      const VEC lo = SPLAT(b->lo);                                      \
      const VECI below = *v < lo;                                       \
      *v = (VEC)((below & (VECI)lo) | (~below & (VECI)*v));             \
    }                                                                   \
    if (b->has_hi) {                                                    \
      const VEC hi = SPLAT(b->hi);                                      \
      const VECI above = *v > hi;                                       \
      *v = (VEC)((above & (VECI)hi) | (~above & (VECI)*v));             \
    }                                                                   \
  }

ES_DEFINE_BOUNDS_APPLY(es_v8_bounds_apply, es_v8, es_v8i, es_v8_splat)

/* The widest portable vector the target has: 16 lanes with AVX-512 (one instruction where
 * es_v8 takes two, and 32 registers to hold them), else es_v8. */
#if defined(__AVX512F__)
#define ES_VF_LANES 16
typedef float es_vf __attribute__((vector_size(64)));
typedef int32_t es_vfi __attribute__((vector_size(64)));
#else
#define ES_VF_LANES 8
typedef es_v8 es_vf;
typedef es_v8i es_vfi;
#endif

ES_INLINE es_vf es_vf_load(const float *p) {
  es_vf v;
  memcpy(&v, p, sizeof v); /* unaligned */
  return v;
}

ES_INLINE void es_vf_store(float *p, const es_vf *v) { memcpy(p, v, sizeof *v); }

#if ES_VF_LANES == 16
ES_INLINE es_vf es_vf_splat(float x) { return (es_vf){x, x, x, x, x, x, x, x, x, x, x, x, x, x, x, x}; }
#else
ES_INLINE es_vf es_vf_splat(float x) { return es_v8_splat(x); }
#endif

ES_DEFINE_BOUNDS_APPLY(es_vf_bounds_apply, es_vf, es_vfi, es_vf_splat)

/* The bounds type a kernel's inner loops use: vector on NEON, scalar otherwise. */
#if ES_NEON
typedef es_bounds4 es_kernel_bounds;
#define es_kernel_bounds_make es_bounds4_make
#else
typedef es_bounds es_kernel_bounds;
#define es_kernel_bounds_make es_bounds_make
#endif

/* out[i] = clamp(in[i]) for i < n; in == out allowed. Nothing to do for infinite bounds. */
static inline void es_clamp_span(const float *in, float *out, size_t n, float lo, float hi) {
  const es_bounds b = es_bounds_make(lo, hi);
  if (!b.has_lo && !b.has_hi) {
    if (in != out)
      for (size_t i = 0; i < n; i++) out[i] = in[i];
    return;
  }
  size_t i = 0;
#if ES_NEON
  const es_bounds4 b4 = es_bounds4_make(lo, hi);
  for (; i + 4 <= n; i += 4) vst1q_f32(out + i, es_bounds4_apply(&b4, vld1q_f32(in + i)));
#endif
  for (; i < n; i++) out[i] = es_bounds_apply(b, in[i]);
}

/* Ceil division for non-negative numerators and positive divisors. */
ES_INLINE int32_t es_div_ceil(int32_t num, int32_t den) { return (num + den - 1) / den; }

/* The first output index o >= 0 whose window start o*stride - pad + k*dilation is >= 0,
 * i.e. the first output for which tap k lands inside the input (before clipping to the end). */
ES_INLINE int32_t es_first_valid_out(int32_t pad, int32_t k, int32_t dilation, int32_t stride) {
  int32_t need = pad - k * dilation; /* o*stride >= need */
  return need <= 0 ? 0 : es_div_ceil(need, stride);
}

/* One past the last output index o whose tap k lands before `size`: o*stride - pad + k*dilation < size. */
ES_INLINE int32_t es_end_valid_out(int32_t size, int32_t pad, int32_t k, int32_t dilation,
                                   int32_t stride) {
  int32_t limit = size + pad - k * dilation; /* o*stride < limit */
  return limit <= 0 ? 0 : es_div_ceil(limit, stride);
}

#endif
