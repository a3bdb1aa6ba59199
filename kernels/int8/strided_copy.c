/* es_strided_copy_s8: es_strided_copy_f32 on int8 codes; the output keeps the input's
 * quantization (slice, expand and tile copy codes). */
#include <stddef.h>

#include "edgespec/kernels_int8.h"

void es_strided_copy_s8(const int8_t *in, int8_t *out, int32_t rank, const int32_t *shape,
                         const int32_t *strides, int32_t offset) {
  int32_t index[8] = {0};
  const int32_t last = rank - 1;
  const int32_t row = shape[last], step = strides[last];
  for (int32_t d = 0; d < rank; d++)
    if (shape[d] <= 0) return;
  const int8_t *base = in + offset;
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
