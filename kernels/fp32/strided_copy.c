/* es_strided_copy_f32: walks `shape` (rank <= 8) in row-major order, writing out densely and
 * reading in[offset + sum_d i_d * strides[d]]. A stride may be 0 (broadcast: expand, tile) or
 * negative (a reversed slice). Serves slice, expand and tile. */
#include "internal.h"

void es_strided_copy_f32(const float *in, float *out, int32_t rank, const int32_t *shape,
                         const int32_t *strides, int32_t offset) {
  int32_t index[8] = {0};
  const int32_t last = rank - 1;
  const int32_t row = shape[last], step = strides[last];
  for (int32_t d = 0; d < rank; d++)
    if (shape[d] <= 0) return;
  const float *base = in + offset;
  for (;;) {
    for (int32_t i = 0; i < row; i++) out[i] = base[(ptrdiff_t)i * step];
    out += row;
    int32_t d = last - 1;
    for (; d >= 0; d--) {
      base += strides[d];
      if (++index[d] < shape[d]) break;
      base -= (ptrdiff_t)strides[d] * shape[d];
      index[d] = 0;
    }
    if (d < 0) return;
  }
}
