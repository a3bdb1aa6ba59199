/* es_pad_mirror_s8: es_pad_mirror_f32 on int8 codes (a copy: input and output share their
 * quantization, as TFLite's int8 MIRROR_PAD). */
#include <string.h>

#include "edgespec/kernels_int8.h"

static int32_t mirrored(int32_t i, int32_t n, int32_t mode) {
  if (mode == 1) return i < 0 ? 0 : i >= n ? n - 1 : i;
  if (mode == 0) return i < 0 ? -i : i >= n ? 2 * (n - 1) - i : i;
  return i < 0 ? -i - 1 : i >= n ? 2 * n - 1 - i : i;
}

void es_pad_mirror_s8(const int8_t *in, const int32_t *in_shape, const int32_t *pads, int32_t rank,
                       int32_t mode, int8_t *out) {
  if (rank <= 0 || rank > 6) return;
  int32_t out_shape[6], index[6] = {0};
  size_t in_stride[6], rows = 1, in_total = 1;
  for (int32_t k = rank - 1; k >= 0; k--) {
    out_shape[k] = in_shape[k] + pads[2 * k] + pads[2 * k + 1];
    if (out_shape[k] <= 0 || in_shape[k] <= 0) return;
    in_stride[k] = in_total;
    in_total *= (size_t)in_shape[k];
  }
  for (int32_t k = 0; k < rank - 1; k++) rows *= (size_t)out_shape[k];
  const int32_t last = rank - 1, width = out_shape[last], before = pads[2 * last], n = in_shape[last];
  int8_t *dst = out;
  for (size_t r = 0; r < rows; r++, dst += width) {
    size_t src = 0;
    for (int32_t k = 0; k < last; k++)
      src += (size_t)mirrored(index[k] - pads[2 * k], in_shape[k], mode) * in_stride[k];
    const int8_t *row = in + src;
    for (int32_t x = 0; x < before; x++) dst[x] = row[mirrored(x - before, n, mode)];
    memcpy(dst + before, row, (size_t)n * sizeof(int8_t));
    for (int32_t x = before + n; x < width; x++) dst[x] = row[mirrored(x - before, n, mode)];
    for (int32_t k = last - 1; k >= 0; k--) {
      if (++index[k] < out_shape[k]) break;
      index[k] = 0;
    }
  }
}
