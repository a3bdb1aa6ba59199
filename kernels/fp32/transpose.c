/* es_transpose_f32: out.shape[k] = in_shape[perm[k]], rank <= 6. Walks the output in order;
 * when the last axis stays last, whole rows are copied. */
#include <string.h>

#include "internal.h"

void es_transpose_f32(const float *in, const int32_t *in_shape, const int32_t *perm, int32_t rank,
                      float *out) {
  if (rank <= 0 || rank > 6) return;
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
