/* es_adaptive_avg_pool2d_f32: NHWC; output cell i covers input rows
 * floor(i*H/OH) .. ceil((i+1)*H/OH) - 1, and likewise for columns (PyTorch's bins). */
#include "internal.h"

void es_adaptive_avg_pool2d_f32(const float *in, es_shape4 is, float *out, es_shape4 os) {
  if (os.n <= 0 || os.h <= 0 || os.w <= 0 || os.c <= 0 || is.c != os.c) return;
  const int32_t C = os.c;
  for (int32_t n = 0; n < os.n; n++) {
    const float *in_n = in + (size_t)n * is.h * is.w * C;
    for (int32_t y = 0; y < os.h; y++) {
      const int32_t y0 = (int32_t)((int64_t)y * is.h / os.h);
      const int32_t y1 = (int32_t)(((int64_t)(y + 1) * is.h + os.h - 1) / os.h);
      for (int32_t x = 0; x < os.w; x++) {
        const int32_t x0 = (int32_t)((int64_t)x * is.w / os.w);
        const int32_t x1 = (int32_t)(((int64_t)(x + 1) * is.w + os.w - 1) / os.w);
        float *o = out + (((size_t)n * os.h + y) * os.w + x) * C;
        for (int32_t c = 0; c < C; c++) o[c] = 0.0f;
        for (int32_t iy = y0; iy < y1; iy++)
          for (int32_t ix = x0; ix < x1; ix++) {
            const float *ip = in_n + ((size_t)iy * is.w + ix) * C;
            for (int32_t c = 0; c < C; c++) o[c] += ip[c];
          }
        const float scale = 1.0f / (float)((y1 - y0) * (x1 - x0));
        for (int32_t c = 0; c < C; c++) o[c] *= scale;
      }
    }
  }
}
