/* es_prelu_s8: TFLite's PRELU int8 arithmetic (reference_ops BroadcastPrelu4DSlow): with
 * x = q - in_zp, x >= 0 is requantized by the identity multiplier (in_scale / out_scale), and
 * below x * (alpha - alpha_zp) by the alpha multiplier (in_scale * alpha_scale / out_scale);
 * then out_zp is added and the result saturated. alpha is broadcast against x (4-D strides,
 * as the fp32 binary kernels). */
#include <stddef.h>

#include "edgespec/kernels_int8.h"

void es_prelu_s8(const int8_t *in, const int32_t in_strides[4], int32_t in_zp, const int8_t *alpha,
                 const int32_t alpha_strides[4], int32_t alpha_zp, int8_t *out, const int32_t out_shape[4],
                 int32_t out_zp, int32_t identity_mult, int32_t identity_shift, int32_t alpha_mult,
                 int32_t alpha_shift) {
  size_t o = 0;
  for (int32_t i0 = 0; i0 < out_shape[0]; i0++)
    for (int32_t i1 = 0; i1 < out_shape[1]; i1++)
      for (int32_t i2 = 0; i2 < out_shape[2]; i2++)
        for (int32_t i3 = 0; i3 < out_shape[3]; i3++, o++) {
          const ptrdiff_t ix = (ptrdiff_t)i0 * in_strides[0] + (ptrdiff_t)i1 * in_strides[1] +
                               (ptrdiff_t)i2 * in_strides[2] + (ptrdiff_t)i3 * in_strides[3];
          const ptrdiff_t ia = (ptrdiff_t)i0 * alpha_strides[0] + (ptrdiff_t)i1 * alpha_strides[1] +
                               (ptrdiff_t)i2 * alpha_strides[2] + (ptrdiff_t)i3 * alpha_strides[3];
          const int32_t x = (int32_t)in[ix] - in_zp;
          const int32_t r = x >= 0 ? es_requantize(x, identity_mult, identity_shift)
                                   : es_requantize(x * ((int32_t)alpha[ia] - alpha_zp), alpha_mult, alpha_shift);
          out[o] = es_clamp_to_s8(out_zp + r, -128, 127);
        }
}
