/* es_avg_pool2d_f32: NHWC. The divisor follows PyTorch: divisor_override when > 0; else
 * with count_include_pad the window clipped to the padded input (never past the far
 * padding, which ceil_mode windows can reach); else the cells inside the input. */
#include "internal.h"

void es_avg_pool2d_f32(const float *in, es_shape4 is, float *out, es_shape4 os, int32_t kh,
                       int32_t kw, int32_t stride_h, int32_t stride_w, int32_t pad_top,
                       int32_t pad_left, int32_t pad_bottom, int32_t pad_right,
                       int32_t count_include_pad, int32_t divisor_override, float act_min,
                       float act_max) {
  if (os.n <= 0 || os.h <= 0 || os.w <= 0 || os.c <= 0 || stride_h <= 0 || stride_w <= 0 || is.c != os.c)
    return;
  const int32_t C = os.c;
  for (int32_t n = 0; n < os.n; n++) {
    const float *in_n = in + (size_t)n * is.h * is.w * C;
    for (int32_t y = 0; y < os.h; y++) {
      int32_t y0 = y * stride_h - pad_top, y1 = ES_MIN(y0 + kh, is.h + pad_bottom);
      const int32_t padded_h = y1 - y0;
      y0 = ES_MAX(y0, 0);
      y1 = ES_MIN(y1, is.h);
      for (int32_t x = 0; x < os.w; x++) {
        int32_t x0 = x * stride_w - pad_left, x1 = ES_MIN(x0 + kw, is.w + pad_right);
        const int32_t padded_w = x1 - x0;
        x0 = ES_MAX(x0, 0);
        x1 = ES_MIN(x1, is.w);
        const int32_t inside = ES_MAX(y1 - y0, 0) * ES_MAX(x1 - x0, 0);
        const int32_t divisor = divisor_override > 0 ? divisor_override
                                : count_include_pad ? padded_h * padded_w
                                                    : inside;
        float *o = out + (((size_t)n * os.h + y) * os.w + x) * C;
        for (int32_t c = 0; c < C; c++) o[c] = 0.0f;
        for (int32_t iy = y0; iy < y1; iy++)
          for (int32_t ix = x0; ix < x1; ix++) {
            const float *ip = in_n + ((size_t)iy * is.w + ix) * C;
            for (int32_t c = 0; c < C; c++) o[c] += ip[c];
          }
        const float scale = divisor > 0 ? 1.0f / (float)divisor : 0.0f;
        for (int32_t c = 0; c < C; c++) o[c] *= scale;
        es_clamp_span(o, o, (size_t)C, act_min, act_max);
      }
    }
  }
}
