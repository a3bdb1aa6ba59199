/* es_neg_s8: TFLite's NEG int8 arithmetic (input and output at one scale):
 * out = saturate(in_zp + out_zp - q). In-place allowed. */
#include "edgespec/kernels_int8.h"

void es_neg_s8(const int8_t *in, int8_t *out, int32_t count, int32_t zero_point_sum) {
  for (int32_t i = 0; i < count; i++) out[i] = es_clamp_to_s8(zero_point_sum - (int32_t)in[i], -128, 127);
}
