/* es_abs_s8: TFLite's ABS int8 arithmetic: |q - in_zp|, requantized by in_scale / out_scale
 * when the scales differ (mult != 0), plus out_zp, saturated. In-place allowed. */
#include "edgespec/kernels_int8.h"

void es_abs_s8(const int8_t *in, int8_t *out, int32_t count, int32_t in_zp, int32_t out_zp, int32_t mult,
               int32_t shift) {
  for (int32_t i = 0; i < count; i++) {
    int32_t v = (int32_t)in[i] - in_zp;
    v = v < 0 ? -v : v;
    if (mult != 0) v = es_requantize(v, mult, shift);
    out[i] = es_clamp_to_s8(out_zp + v, -128, 127);
  }
}
