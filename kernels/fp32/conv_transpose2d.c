/* es_conv_transpose2d_f32: transposed convolution, NHWC, weights [OC][KH][KW][IC/groups].
 *
 * Output pixel (oy, ox) of the full (uncropped) result at (oy + pad_top, ox + pad_left)
 * receives in[iy, ix] * w[ky, kx] wherever iy * stride + ky * dilation lands on it; the loop
 * gathers those inputs per output pixel, so each output is written once, bias first.
 * Output rows or columns no window reaches (output_padding) hold the bias alone. */
#include "internal.h"

void es_conv_transpose2d_f32(const float *in, es_shape4 is, const float *weights,
                             const float *bias, float *out, es_shape4 os, int32_t kh, int32_t kw,
                             int32_t stride_h, int32_t stride_w, int32_t pad_top,
                             int32_t pad_left, int32_t dilation_h, int32_t dilation_w,
                             int32_t groups, float act_min, float act_max) {
  if (os.n <= 0 || os.h <= 0 || os.w <= 0 || os.c <= 0 || stride_h <= 0 || stride_w <= 0 ||
      groups <= 0 || is.c % groups != 0 || os.c % groups != 0)
    return;
  const int32_t icg = is.c / groups;
  const int32_t ocg = os.c / groups;
  for (int32_t n = 0; n < os.n; n++)
    for (int32_t oy = 0; oy < os.h; oy++)
      for (int32_t ox = 0; ox < os.w; ox++) {
        float *o = out + (((size_t)n * os.h + oy) * os.w + ox) * os.c;
        for (int32_t oc = 0; oc < os.c; oc++) {
          const int32_t g = oc / ocg;
          float acc = bias ? bias[oc] : 0.0f;
          for (int32_t ky = 0; ky < kh; ky++) {
            const int32_t ty = oy + pad_top - ky * dilation_h;
            if (ty < 0 || ty % stride_h != 0 || ty / stride_h >= is.h) continue;
            const int32_t iy = ty / stride_h;
            for (int32_t kx = 0; kx < kw; kx++) {
              const int32_t tx = ox + pad_left - kx * dilation_w;
              if (tx < 0 || tx % stride_w != 0 || tx / stride_w >= is.w) continue;
              const int32_t ix = tx / stride_w;
              const float *xp = in + (((size_t)n * is.h + iy) * is.w + ix) * is.c + (size_t)g * icg;
              const float *wp = weights + (((size_t)oc * kh + ky) * kw + kx) * icg;
              for (int32_t c = 0; c < icg; c++) acc += xp[c] * wp[c];
            }
          }
          o[oc] = acc < act_min ? act_min : acc > act_max ? act_max : acc;
        }
      }
}
