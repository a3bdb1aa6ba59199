/* es_resize_nearest_s8: the fp32 kernel's index rule on int8 codes (input and output share
 * their quantization, as TFLite's int8 RESIZE_NEAREST_NEIGHBOR: a copy). */
#include <math.h>
#include <string.h>

#include "edgespec/kernels_int8.h"

static int32_t nearest_index(float v, int32_t mode, int32_t size) {
  float r = mode == 0 ? ceilf(v - 0.5f) : mode == 1 ? floorf(v + 0.5f) : mode == 2 ? floorf(v) : ceilf(v);
  return r < 0.0f ? 0 : r > (float)(size - 1) ? size - 1 : (int32_t)r;
}

void es_resize_nearest_s8(const int8_t *in, es_shape4 is, int8_t *out, es_shape4 os, float inv_h,
                          float inv_w, float offset_in, float offset_out, int32_t nearest_mode, int32_t divide) {
  if (os.n <= 0 || os.h <= 0 || os.w <= 0 || os.c <= 0 || is.h <= 0 || is.w <= 0 || is.c != os.c) return;
  const size_t C = (size_t)os.c;
  for (int32_t n = 0; n < os.n; n++)
    for (int32_t y = 0; y < os.h; y++) {
      const int32_t iy = nearest_index((divide ? ((float)y + offset_in) / inv_h : ((float)y + offset_in) * inv_h) - offset_out, nearest_mode, is.h);
      const int8_t *row = in + ((size_t)n * is.h + iy) * is.w * C;
      int8_t *o = out + ((size_t)n * os.h + y) * os.w * C;
      for (int32_t x = 0; x < os.w; x++) {
        const int32_t ix = nearest_index((divide ? ((float)x + offset_in) / inv_w : ((float)x + offset_in) * inv_w) - offset_out, nearest_mode, is.w);
        memcpy(o + (size_t)x * C, row + (size_t)ix * C, C);
      }
    }
}
