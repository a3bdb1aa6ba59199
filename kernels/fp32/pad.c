/* es_pad_f32: constant padding of up to 6 dims; pads[2k] before and pads[2k+1] after
 * dimension k. Negative pads crop, as in PyTorch's constant_pad_nd. */
#include <string.h>

#include "internal.h"

void es_pad_f32(const float *in, const int32_t *in_shape, const int32_t *pads, int32_t rank,
                float value, float *out) {
  if (rank <= 0 || rank > 6) return;
  int32_t out_shape[6];
  size_t in_stride[6], rows = 1, in_total = 1;
  for (int32_t k = rank - 1; k >= 0; k--) {
    out_shape[k] = in_shape[k] + pads[2 * k] + pads[2 * k + 1];
    if (out_shape[k] <= 0) return;
    in_stride[k] = in_total;
    in_total *= (size_t)in_shape[k];
  }
  for (int32_t k = 0; k < rank - 1; k++) rows *= (size_t)out_shape[k];
  const int32_t last = rank - 1, width = out_shape[last], before = pads[2 * last];
  /* Output columns [x0, x1) come from input columns [x0 - before, x1 - before). */
  const int32_t x0 = ES_MAX(0, before), x1 = ES_MIN(width, before + in_shape[last]);
  int32_t index[6] = {0};
  float *dst = out;
  for (size_t r = 0; r < rows; r++, dst += width) {
    int inside = x1 > x0;
    size_t src = 0;
    for (int32_t k = 0; k < last && inside; k++) {
      const int32_t i = index[k] - pads[2 * k];
      inside = i >= 0 && i < in_shape[k];
      src += (size_t)i * in_stride[k];
    }
    if (!inside) {
      for (int32_t x = 0; x < width; x++) dst[x] = value;
    } else {
      for (int32_t x = 0; x < x0; x++) dst[x] = value;
      memcpy(dst + x0, in + src + (x0 - before), (size_t)(x1 - x0) * sizeof(float));
      for (int32_t x = x1; x < width; x++) dst[x] = value;
    }
    for (int32_t k = last - 1; k >= 0; k--) {
      if (++index[k] < out_shape[k]) break;
      index[k] = 0;
    }
  }
}
