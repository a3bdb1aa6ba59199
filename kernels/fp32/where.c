/* es_where_f32: out (dense, `shape`, rank <= 8) = cond != 0 ? x : other, each operand read
 * through its own element strides (0 along broadcast dims). */
#include "internal.h"

void es_where_f32(const float *cond, const float *x, const float *other, float *out, int32_t rank,
                  const int32_t *shape, const int32_t *cond_strides, const int32_t *x_strides,
                  const int32_t *other_strides) {
  int32_t index[8] = {0};
  size_t count = 1;
  for (int32_t d = 0; d < rank; d++) count *= (size_t)shape[d];
  ptrdiff_t c = 0, a = 0, b = 0;
  for (size_t k = 0; k < count; k++) {
    out[k] = cond[c] != 0.0f ? x[a] : other[b];
    for (int32_t d = rank - 1; d >= 0; d--) {
      c += cond_strides[d], a += x_strides[d], b += other_strides[d];
      if (++index[d] < shape[d]) break;
      c -= (ptrdiff_t)cond_strides[d] * shape[d], a -= (ptrdiff_t)x_strides[d] * shape[d];
      b -= (ptrdiff_t)other_strides[d] * shape[d];
      index[d] = 0;
    }
  }
}
