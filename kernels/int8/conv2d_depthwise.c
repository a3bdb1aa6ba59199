#include "edgespec/kernels_int8.h"

/* Channels per block: the int32 accumulators of one output pixel live on the stack. */
#define ES_DW_BLOCK 256

void es_conv2d_depthwise_s8(const int8_t *in, es_shape4 is, int32_t in_zp, const int8_t *weights,
                            const int32_t *bias, int8_t *out, es_shape4 os, int32_t kh,
                            int32_t kw, int32_t stride_h, int32_t stride_w, int32_t pad_top,
                            int32_t pad_left, int32_t dilation_h, int32_t dilation_w,
                            int32_t out_zp, const int32_t *mult, const int8_t *shift,
                            int32_t act_min, int32_t act_max) {
  const int32_t channels = os.c;
  int32_t acc[ES_DW_BLOCK];
  for (int32_t b = 0; b < os.n; b++) {
    for (int32_t oy = 0; oy < os.h; oy++) {
      for (int32_t ox = 0; ox < os.w; ox++) {
        int8_t *o = out + (((int64_t)b * os.h + oy) * os.w + ox) * channels;
        for (int32_t c0 = 0; c0 < channels; c0 += ES_DW_BLOCK) {
          const int32_t cn = channels - c0 < ES_DW_BLOCK ? channels - c0 : ES_DW_BLOCK;
          for (int32_t c = 0; c < cn; c++) acc[c] = bias ? bias[c0 + c] : 0;
          for (int32_t ky = 0; ky < kh; ky++) {
            const int32_t iy = oy * stride_h - pad_top + ky * dilation_h;
            for (int32_t kx = 0; kx < kw; kx++) {
              const int32_t ix = ox * stride_w - pad_left + kx * dilation_w;
              const int8_t *w = weights + ((int64_t)ky * kw + kx) * channels + c0;
              if (iy < 0 || iy >= is.h || ix < 0 || ix >= is.w) {
                for (int32_t c = 0; c < cn; c++) acc[c] += in_zp * (int32_t)w[c];
                continue;
              }
              const int8_t *x = in + (((int64_t)b * is.h + iy) * is.w + ix) * is.c + c0;
              for (int32_t c = 0; c < cn; c++) acc[c] += (int32_t)x[c] * (int32_t)w[c];
            }
          }
          for (int32_t c = 0; c < cn; c++) {
            o[c0 + c] = es_clamp_to_s8(out_zp + es_requantize(acc[c], mult[c0 + c], shift[c0 + c]), act_min, act_max);
          }
        }
      }
    }
  }
}
