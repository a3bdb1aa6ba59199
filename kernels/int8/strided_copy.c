/* es_strided_copy_s8: es_strided_copy_f32 on int8 codes; the output keeps the input's
 * quantization (slice, expand, tile and transpose copy codes).
 *
 * When the last axis walks the input with a step other than 1 and another axis walks it
 * contiguously (a transpose: NCHW <-> NHWC, a channel shuffle), each run over those two axes
 * is a 2-D transpose, done in 8 x 8 blocks of codes held in 64-bit words. Code by code, the
 * last axis's gather cost about a nanosecond per code on the host. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "edgespec/kernels_int8.h"

/* Plain loops, kept from becoming memcpy calls (picolibc's cost about 7 instructions per byte
 * on bare metal). */
#pragma GCC optimize("no-tree-loop-distribute-patterns")

/* GNU C vectors of 16 codes: the compiler maps the shuffles below onto the target's byte
 * unpacks (x86 punpck*, NEON zip1/zip2). */
typedef int8_t s8x16 __attribute__((vector_size(16)));
typedef uint64_t u64x2 __attribute__((vector_size(16)));

/* 8 codes into the low half of a vector, through a 64-bit word (a memcpy into the vector
 * itself went through the stack). */
static inline __attribute__((always_inline)) s8x16 load8(const int8_t *p) {
  uint64_t w;
  memcpy(&w, p, 8);
  return (s8x16)(u64x2){w, 0};
}

static inline __attribute__((always_inline)) void store8(int8_t *p, s8x16 v, int half) {
  const uint64_t w = ((u64x2)v)[half];
  memcpy(p, &w, 8);
}

/* The 8 x 8 block of codes at in (rows in_ld apart) to out (rows out_ld apart), transposed in
 * three rounds of unpacks: codes of row pairs, then pairs of codes, then quads (every vector
 * then holds two output rows). As 64-bit words with masked swaps it ran at 3.4 codes per ns. */
static inline __attribute__((always_inline)) void block8_transpose(const int8_t *in, ptrdiff_t in_ld, int8_t *out,
                                                                  ptrdiff_t out_ld) {
  const s8x16 codes = {0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23};
  const s8x16 pairs_lo = {0, 1, 16, 17, 2, 3, 18, 19, 4, 5, 20, 21, 6, 7, 22, 23};
  const s8x16 pairs_hi = {8, 9, 24, 25, 10, 11, 26, 27, 12, 13, 28, 29, 14, 15, 30, 31};
  const s8x16 quads_lo = {0, 1, 2, 3, 16, 17, 18, 19, 4, 5, 6, 7, 20, 21, 22, 23};
  const s8x16 quads_hi = {8, 9, 10, 11, 24, 25, 26, 27, 12, 13, 14, 15, 28, 29, 30, 31};
  s8x16 a[4], b[4], c[4];
  for (int k = 0; k < 4; k++) a[k] = __builtin_shuffle(load8(in + 2 * k * in_ld), load8(in + (2 * k + 1) * in_ld), codes);
  for (int h = 0; h < 2; h++) { /* rows 4h..4h+3: columns 0-3 in b[2h], 4-7 in b[2h+1] */
    b[2 * h] = __builtin_shuffle(a[2 * h], a[2 * h + 1], pairs_lo);
    b[2 * h + 1] = __builtin_shuffle(a[2 * h], a[2 * h + 1], pairs_hi);
  }
  for (int q = 0; q < 2; q++) { /* columns 4q..4q+3, two output rows per vector */
    c[2 * q] = __builtin_shuffle(b[q], b[2 + q], quads_lo);
    c[2 * q + 1] = __builtin_shuffle(b[q], b[2 + q], quads_hi);
  }
  for (int k = 0; k < 4; k++) {
    store8(out + 2 * k * out_ld, c[k], 0);
    store8(out + (2 * k + 1) * out_ld, c[k], 1);
  }
}

/* out[j * R + i] = in[i * in_ld + j] for i < R, j < cols: R rows interleaved (an RGB image to
 * NHWC, a shuffle of 2 groups per pixel), with R a constant so that the compiler vectorizes
 * the grouped stores. */
#define ES_INTERLEAVE_ROWS(R)                                                  \
  for (int32_t j = 0; j < cols; j++)                                            \
    for (int32_t i = 0; i < (R); i++) out[(ptrdiff_t)j * (R) + i] = in[i * in_ld + j];

/* out[j * out_ld + i] = in[i * in_ld + j] for i < rows, j < cols. */
static void transpose_2d(const int8_t *in, int32_t rows, int32_t cols, ptrdiff_t in_ld, int8_t *out, ptrdiff_t out_ld) {
  if (rows == 2 && out_ld == 2) { /* 16 and 8 columns at a time, then one */
    const s8x16 lo = {0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23};
    const s8x16 hi = {8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31};
    int32_t j = 0;
    for (; j + 16 <= cols; j += 16) {
      s8x16 x, y;
      memcpy(&x, in + j, 16);
      memcpy(&y, in + in_ld + j, 16);
      const s8x16 o0 = __builtin_shuffle(x, y, lo), o1 = __builtin_shuffle(x, y, hi);
      memcpy(out + 2 * j, &o0, 16);
      memcpy(out + 2 * j + 16, &o1, 16);
    }
    for (; j + 8 <= cols; j += 8) {
      const s8x16 o = __builtin_shuffle(load8(in + j), load8(in + in_ld + j), lo);
      memcpy(out + 2 * j, &o, 16);
    }
    for (; j < cols; j++) out[2 * j] = in[j], out[2 * j + 1] = in[in_ld + j];
    return;
  }
  if (rows < 8 && out_ld == rows) {
    switch (rows) {
    case 1: ES_INTERLEAVE_ROWS(1) return;
    case 2: ES_INTERLEAVE_ROWS(2) return;
    case 3: ES_INTERLEAVE_ROWS(3) return;
    case 4: ES_INTERLEAVE_ROWS(4) return;
    case 5: ES_INTERLEAVE_ROWS(5) return;
    case 6: ES_INTERLEAVE_ROWS(6) return;
    default: ES_INTERLEAVE_ROWS(7) return;
    }
  }
  const int32_t rows_b = rows / 8 * 8, cols_b = cols / 8 * 8;
  for (int32_t i = 0; i < rows_b; i += 8) {
    for (int32_t j = 0; j < cols_b; j += 8) block8_transpose(in + i * in_ld + j, in_ld, out + j * out_ld + i, out_ld);
    for (int32_t j = cols_b; j < cols; j++)
      for (int32_t r = i; r < i + 8; r++) out[j * out_ld + r] = in[r * in_ld + j];
  }
  for (int32_t i = rows_b; i < rows; i++)
    for (int32_t j = 0; j < cols; j++) out[j * out_ld + i] = in[i * in_ld + j];
}

void es_strided_copy_s8(const int8_t *in, int8_t *out, int32_t rank, const int32_t *shape,
                         const int32_t *strides, int32_t offset) {
  if (rank <= 0 || rank > 8) return;
  for (int32_t d = 0; d < rank; d++)
    if (shape[d] <= 0) return;
  const int32_t last = rank - 1;
  const int32_t row = shape[last], step = strides[last];
  /* The axis that walks the input contiguously, when the last one does not: with it, a batch
   * of 2-D transposes (the odometer below skips it). */
  int32_t inner = -1;
  if (step != 1)
    for (int32_t d = 0; d < last; d++)
      if (strides[d] == 1) inner = d;
  ptrdiff_t out_stride[8]; /* the dense output's stride of each axis */
  out_stride[last] = 1;
  for (int32_t d = last - 1; d >= 0; d--) out_stride[d] = out_stride[d + 1] * shape[d + 1];
  int32_t index[8] = {0};
  const int8_t *base = in + offset;
  int8_t *dst = out;
  for (;;) {
    if (inner >= 0) transpose_2d(base, row, shape[inner], step, dst, out_stride[inner]);
    else if (step == 1) for (int32_t i = 0; i < row; i++) dst[i] = base[i];
    else for (int32_t i = 0; i < row; i++) dst[i] = base[(ptrdiff_t)i * step];
    int32_t d = last - 1;
    for (; d >= 0; d--) {
      if (d == inner) continue;
      base += strides[d];
      dst += out_stride[d];
      if (++index[d] < shape[d]) break;
      base -= (ptrdiff_t)strides[d] * shape[d];
      dst -= out_stride[d] * shape[d];
      index[d] = 0;
    }
    if (d < 0) return;
  }
}
