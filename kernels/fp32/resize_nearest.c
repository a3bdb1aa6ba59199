/* es_resize_nearest_f32: NHWC; the source of output index i along an axis is
 * (i + offset_in) * inv - offset_out (or / inv when divide: inv is then the output/input
 * ratio, as ONNX divides by its scales), rounded by nearest_mode (0 round half down, 1 round
 * half up, 2 floor, 3 ceil) and clamped to the input. */
#include <math.h>
#include <string.h>

#include "internal.h"

static int32_t nearest_index(float v, int32_t mode, int32_t size) {
  float r = mode == 0 ? ceilf(v - 0.5f) : mode == 1 ? floorf(v + 0.5f) : mode == 2 ? floorf(v) : ceilf(v);
  int32_t i = r < 0.0f ? 0 : r > (float)(size - 1) ? size - 1 : (int32_t)r;
  return i;
}

void es_resize_nearest_f32(const float *in, es_shape4 is, float *out, es_shape4 os, float inv_h,
                           float inv_w, float offset_in, float offset_out, int32_t nearest_mode, int32_t divide) {
  if (os.n <= 0 || os.h <= 0 || os.w <= 0 || os.c <= 0 || is.h <= 0 || is.w <= 0 || is.c != os.c) return;
  const size_t C = (size_t)os.c;
  for (int32_t n = 0; n < os.n; n++)
    for (int32_t y = 0; y < os.h; y++) {
      const int32_t iy = nearest_index((divide ? ((float)y + offset_in) / inv_h : ((float)y + offset_in) * inv_h) - offset_out, nearest_mode, is.h);
      const float *row = in + ((size_t)n * is.h + iy) * is.w * C;
      float *o = out + ((size_t)n * os.h + y) * os.w * C;
      for (int32_t x = 0; x < os.w; x++) {
        const int32_t ix = nearest_index((divide ? ((float)x + offset_in) / inv_w : ((float)x + offset_in) * inv_w) - offset_out, nearest_mode, is.w);
        memcpy(o + (size_t)x * C, row + (size_t)ix * C, C * sizeof(float));
      }
    }
}
