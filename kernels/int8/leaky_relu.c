/* es_leaky_relu_s8: TFLite's LEAKY_RELU int8 arithmetic (reference_ops QuantizeLeakyRelu):
 * the input minus its zero point is requantized with the identity multiplier where it is
 * >= 0 and with the alpha multiplier below, then the output zero point is added and the
 * result saturated to int8. In-place allowed (each element is read before it is written). */
#include "edgespec/kernels_int8.h"

void es_leaky_relu_s8(const int8_t *in, int8_t *out, int32_t count, int32_t in_zp, int32_t out_zp,
                      int32_t identity_mult, int32_t identity_shift, int32_t alpha_mult, int32_t alpha_shift) {
  for (int32_t i = 0; i < count; i++) {
    const int32_t x = (int32_t)in[i] - in_zp;
    const int32_t r = x >= 0 ? es_requantize(x, identity_mult, identity_shift) : es_requantize(x, alpha_mult, alpha_shift);
    out[i] = es_clamp_to_s8(out_zp + r, -128, 127);
  }
}
