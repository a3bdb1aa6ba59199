/* es_transpose_f32: out.shape[k] = in_shape[perm[k]], rank <= 6. Output axes that stay
 * neighbours in the input are merged first; a batch of 2-D transposes (NCHW <-> NHWC) takes
 * two plain loops. Otherwise walks the output in order; when the last axis stays last, whole
 * rows are copied. */
#include <string.h>

#include "internal.h"

/* out[b][s][r] = in[b][r][s]. */
static void transpose_batched(const float *in, size_t batch, size_t rows, size_t cols, float *out) {
  for (size_t b = 0; b < batch; b++, in += rows * cols, out += rows * cols)
    for (size_t s = 0; s < cols; s++)
      for (size_t r = 0; r < rows; r++) out[s * rows + r] = in[r * cols + s];
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
