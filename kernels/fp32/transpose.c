/* es_transpose_f32: out.shape[k] = in_shape[perm[k]], rank <= 6. Output axes that stay
 * neighbours in the input are merged first; a batch of 2-D transposes (NCHW <-> NHWC) takes
 * two plain loops. Otherwise walks the output in order; when the last axis stays last, whole
 * rows are copied. */
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
#endif

/* out[b][s][r] = in[b][r][s]. */
static void transpose_batched(const float *in, size_t batch, size_t rows, size_t cols, float *out) {
  for (size_t b = 0; b < batch; b++, in += rows * cols, out += rows * cols) {
#if !ES_NEON
    if (rows == 2) {
      interleave2(in, in + cols, cols, out);
      continue;
    }
    if (rows == 3) {
      interleave3(in, in + cols, in + 2 * cols, cols, out);
      continue;
    }
#endif
    for (size_t s = 0; s < cols; s++)
      for (size_t r = 0; r < rows; r++) out[s * rows + r] = in[r * cols + s];
  }
}

/* When perm, with neighbouring axes merged, is a batch of 2-D transposes: does it and
 * returns 1. Walking the output axis by axis cost about 50 cycles per 3-channel pixel of an
 * NCHW input. */
static int transpose_as_batched(const float *in, const int32_t *in_shape, const int32_t *perm,
                                int32_t rank, float *out) {
  int32_t first[6], last[6], groups = 0; /* output axis groups: input axes first..last */
  for (int32_t k = 0; k < rank; k++) {
    if (groups > 0 && perm[k] == last[groups - 1] + 1) {
      last[groups - 1] = perm[k];
    } else {
      first[groups] = last[groups] = perm[k];
      groups++;
    }
  }
  size_t size[6];
  for (int32_t g = 0; g < groups; g++) {
    size[g] = 1;
    for (int32_t i = first[g]; i <= last[g]; i++) size[g] *= (size_t)in_shape[i];
  }
  /* [rows][cols] -> [cols][rows], or the same under a leading batch axis. */
  if (groups == 2 && first[0] > first[1]) {
    transpose_batched(in, 1, size[1], size[0], out);
    return 1;
  }
  if (groups == 3 && first[0] == 0 && first[1] > first[2]) {
    transpose_batched(in, size[0], size[2], size[1], out);
    return 1;
  }
  return 0;
}

void es_transpose_f32(const float *in, const int32_t *in_shape, const int32_t *perm, int32_t rank,
                      float *out) {
  if (rank <= 0 || rank > 6) return;
  if (transpose_as_batched(in, in_shape, perm, rank, out)) return;
  size_t in_stride[6], total = 1;
  int32_t out_shape[6];
  for (int32_t k = rank - 1; k >= 0; k--) {
    in_stride[k] = total;
    total *= (size_t)in_shape[k];
  }
  if (total == 0) return;
  size_t stride[6]; /* input stride of each output axis */
  for (int32_t k = 0; k < rank; k++) {
    out_shape[k] = in_shape[perm[k]];
    stride[k] = in_stride[perm[k]];
  }
  const int32_t last = rank - 1;
  const size_t row = (size_t)out_shape[last];
  const int contiguous_rows = stride[last] == 1;
  int32_t index[6] = {0};
  size_t src = 0;
  for (size_t done = 0; done < total; done += row) {
    if (contiguous_rows) {
      memcpy(out + done, in + src, row * sizeof(float));
    } else {
      for (size_t j = 0; j < row; j++) out[done + j] = in[src + j * stride[last]];
    }
    for (int32_t k = last - 1; k >= 0; k--) { /* odometer over all axes but the last */
      src += stride[k];
      if (++index[k] < out_shape[k]) break;
      src -= stride[k] * (size_t)out_shape[k];
      index[k] = 0;
    }
  }
}
