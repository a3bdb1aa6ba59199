/* es_transpose_f32: out.shape[k] = in_shape[perm[k]], rank <= 6. Output axes that stay
 * neighbours in the input are merged first. When the last output axis is also the input's
 * innermost, whole rows are copied; otherwise every movement is a batch of 2-D transposes
 * between the last output axis and the one the input holds innermost (NCHW <-> NHWC, a
 * channel shuffle), done in register blocks. */
#include <string.h>

#include "internal.h"

#if !ES_NEON
/* out[s][r] = in[r][s] for 2 or 3 rows (a channel shuffle of 2 groups, an RGB image from NCHW
 * to NHWC), 8 columns at a time interleaved in registers. Element by element, the input
 * transpose of a 224x224 image took 6 % of MobileNetV3-small's time on the host. */
ES_INLINE void interleave2(const float *a, const float *b, size_t cols, float *out) {
  const es_v8i lo = {0, 8, 1, 9, 2, 10, 3, 11}, hi = {4, 12, 5, 13, 6, 14, 7, 15};
  size_t s = 0;
  for (; s + 8 <= cols; s += 8) {
    const es_v8 x = es_v8_load(a + s), y = es_v8_load(b + s);
    const es_v8 o0 = __builtin_shuffle(x, y, lo), o1 = __builtin_shuffle(x, y, hi);
    es_v8_store(out + 2 * s, &o0);
    es_v8_store(out + 2 * s + 8, &o1);
  }
  for (; s < cols; s++) {
    out[2 * s] = a[s];
    out[2 * s + 1] = b[s];
  }
}

ES_INLINE void interleave3(const float *a, const float *b, const float *c, size_t cols, float *out) {
  /* x, y, z: 8 columns of the three rows; each output vector takes two shuffles (0 marks a
   * lane the second shuffle fills). */
  const es_v8i xy0 = {0, 8, 0, 1, 9, 0, 2, 10}, z0 = {0, 1, 8, 3, 4, 9, 6, 7};
  const es_v8i xy1 = {0, 3, 11, 0, 4, 12, 0, 5}, z1 = {10, 1, 2, 11, 4, 5, 12, 7};
  const es_v8i xy2 = {13, 0, 6, 14, 0, 7, 15, 0}, z2 = {0, 13, 2, 3, 14, 5, 6, 15};
  size_t s = 0;
  for (; s + 8 <= cols; s += 8) {
    const es_v8 x = es_v8_load(a + s), y = es_v8_load(b + s), z = es_v8_load(c + s);
    const es_v8 o0 = __builtin_shuffle(__builtin_shuffle(x, y, xy0), z, z0);
    const es_v8 o1 = __builtin_shuffle(__builtin_shuffle(x, y, xy1), z, z1);
    const es_v8 o2 = __builtin_shuffle(__builtin_shuffle(x, y, xy2), z, z2);
    es_v8_store(out + 3 * s, &o0);
    es_v8_store(out + 3 * s + 8, &o1);
    es_v8_store(out + 3 * s + 16, &o2);
  }
  for (; s < cols; s++) {
    out[3 * s] = a[s];
    out[3 * s + 1] = b[s];
    out[3 * s + 2] = c[s];
  }
}

enum { BLOCK = 8 };

/* The BLOCK x BLOCK block at in (rows in_ld apart) to out (rows out_ld apart), transposed. */
ES_INLINE void block_transpose(const float *in, size_t in_ld, float *out, size_t out_ld) {
  es_v8 r[8];
  for (int i = 0; i < 8; i++) r[i] = es_v8_load(in + (size_t)i * in_ld);
  es_v8_transpose8(r);
  for (int i = 0; i < 8; i++) es_v8_store(out + (size_t)i * out_ld, &r[i]);
}
#else
enum { BLOCK = 4 };

ES_INLINE void block_transpose(const float *in, size_t in_ld, float *out, size_t out_ld) {
  const float32x4_t r0 = vld1q_f32(in), r1 = vld1q_f32(in + in_ld), r2 = vld1q_f32(in + 2 * in_ld),
                    r3 = vld1q_f32(in + 3 * in_ld);
  /* pairs of rows interleaved, then 64-bit halves: column c of the block in out row c */
  const float64x2_t t0 = vreinterpretq_f64_f32(vtrn1q_f32(r0, r1)), t1 = vreinterpretq_f64_f32(vtrn2q_f32(r0, r1));
  const float64x2_t t2 = vreinterpretq_f64_f32(vtrn1q_f32(r2, r3)), t3 = vreinterpretq_f64_f32(vtrn2q_f32(r2, r3));
  vst1q_f32(out, vreinterpretq_f32_f64(vtrn1q_f64(t0, t2)));
  vst1q_f32(out + out_ld, vreinterpretq_f32_f64(vtrn1q_f64(t1, t3)));
  vst1q_f32(out + 2 * out_ld, vreinterpretq_f32_f64(vtrn2q_f64(t0, t2)));
  vst1q_f32(out + 3 * out_ld, vreinterpretq_f32_f64(vtrn2q_f64(t1, t3)));
}
#endif

/* out[j * out_ld + i] = in[i * in_ld + j] for i < rows, j < cols: whole blocks in registers,
 * the edges element by element. Element by element throughout, ShuffleNetV2's channel
 * shuffles and NCHW -> NHWC conversions took 14 % of its time on the host. */
static void transpose_2d(const float *in, size_t rows, size_t cols, size_t in_ld, float *out, size_t out_ld) {
#if !ES_NEON
  if (out_ld == rows && rows == 2) {
    interleave2(in, in + in_ld, cols, out);
    return;
  }
  if (out_ld == rows && rows == 3) {
    interleave3(in, in + in_ld, in + 2 * in_ld, cols, out);
    return;
  }
#endif
  const size_t rows_b = rows / BLOCK * BLOCK, cols_b = cols / BLOCK * BLOCK;
  for (size_t i = 0; i < rows_b; i += BLOCK) {
    for (size_t j = 0; j < cols_b; j += BLOCK) block_transpose(in + i * in_ld + j, in_ld, out + j * out_ld + i, out_ld);
    for (size_t j = cols_b; j < cols; j++)
      for (size_t r = i; r < i + BLOCK; r++) out[j * out_ld + r] = in[r * in_ld + j];
  }
  for (size_t i = rows_b; i < rows; i++)
    for (size_t j = 0; j < cols; j++) out[j * out_ld + i] = in[i * in_ld + j];
}

void es_transpose_f32(const float *in, const int32_t *in_shape, const int32_t *perm, int32_t rank,
                      float *out) {
  if (rank <= 0 || rank > 6) return;
  size_t in_stride[6], total = 1;
  for (int32_t k = rank - 1; k >= 0; k--) {
    in_stride[k] = total;
    total *= (size_t)in_shape[k];
  }
  if (total == 0) return;
  /* Output axes merged where neighbours in the input: size and input stride of each. */
  size_t size[6], stride[6];
  int32_t axes = 0, prev = -2;
  for (int32_t k = 0; k < rank; k++) {
    if (in_shape[perm[k]] == 1) continue; /* moves nothing */
    if (axes > 0 && perm[k] == prev + 1) {
      size[axes - 1] *= (size_t)in_shape[perm[k]];
      stride[axes - 1] = in_stride[perm[k]];
    } else {
      size[axes] = (size_t)in_shape[perm[k]];
      stride[axes] = in_stride[perm[k]];
      axes++;
    }
    prev = perm[k];
  }
  if (axes == 0) { /* every axis of size 1 */
    out[0] = in[0];
    return;
  }
  size_t out_stride[6];
  out_stride[axes - 1] = 1;
  for (int32_t k = axes - 2; k >= 0; k--) out_stride[k] = out_stride[k + 1] * size[k + 1];
  const int32_t last = axes - 1;
  /* The axis the input holds innermost, unless it stays last: a batch of 2-D transposes. */
  int32_t inner = -1;
  for (int32_t k = 0; k < last; k++)
    if (stride[k] == 1) inner = k;
  const size_t row = size[last], step = inner < 0 ? row : row * size[inner];
  int32_t index[6] = {0};
  size_t src = 0, dst = 0;
  for (size_t done = 0; done < total; done += step) {
    if (inner < 0) memcpy(out + dst, in + src, row * sizeof(float));
    else transpose_2d(in + src, row, size[inner], stride[last], out + dst, out_stride[inner]);
    int32_t k = last - 1; /* odometer over the axes besides the last and the inner one */
    for (; k >= 0; k--) {
      if (k == inner) continue;
      src += stride[k];
      dst += out_stride[k];
      if (++index[k] < (int32_t)size[k]) break;
      src -= stride[k] * size[k];
      dst -= out_stride[k] * size[k];
      index[k] = 0;
    }
  }
}
