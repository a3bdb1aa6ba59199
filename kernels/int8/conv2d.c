#include "edgespec/kernels_int8.h"

void es_conv2d_s8(const int8_t *in, es_shape4 is, int32_t in_zp, const int8_t *weights,
                  const int32_t *bias, int8_t *out, es_shape4 os, int32_t kh, int32_t kw,
                  int32_t stride_h, int32_t stride_w, int32_t pad_top, int32_t pad_left,
                  int32_t dilation_h, int32_t dilation_w, int32_t groups, int32_t out_zp,
                  const int32_t *mult, const int8_t *shift, int32_t act_min, int32_t act_max) {
  const int32_t icg = is.c / groups;
  const int32_t ocg = os.c / groups;
  for (int32_t b = 0; b < os.n; b++) {
    for (int32_t oy = 0; oy < os.h; oy++) {
      for (int32_t ox = 0; ox < os.w; ox++) {
        int8_t *o = out + (((int64_t)b * os.h + oy) * os.w + ox) * os.c;
        for (int32_t oc = 0; oc < os.c; oc++) {
          const int32_t g = oc / ocg;
          const int8_t *wc = weights + (int64_t)oc * kh * kw * icg;
          int32_t acc = bias ? bias[oc] : 0;
          for (int32_t ky = 0; ky < kh; ky++) {
            const int32_t iy = oy * stride_h - pad_top + ky * dilation_h;
            for (int32_t kx = 0; kx < kw; kx++) {
              const int32_t ix = ox * stride_w - pad_left + kx * dilation_w;
              const int8_t *w = wc + ((int64_t)ky * kw + kx) * icg;
              int32_t sum = 0;
              if (iy < 0 || iy >= is.h || ix < 0 || ix >= is.w) {
                /* A padded pixel reads as in_zp (real zero): see the bias folding in kernels_int8.h. */
                for (int32_t c = 0; c < icg; c++) sum += w[c];
                acc += in_zp * sum;
                continue;
              }
              const int8_t *x = in + (((int64_t)b * is.h + iy) * is.w + ix) * is.c + (int64_t)g * icg;
              for (int32_t c = 0; c < icg; c++) sum += (int32_t)x[c] * (int32_t)w[c];
              acc += sum;
            }
          }
          o[oc] = es_clamp_to_s8(out_zp + es_requantize(acc, mult[oc], shift[oc]), act_min, act_max);
        }
      }
    }
  }
}
