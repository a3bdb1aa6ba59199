#include "edgespec/kernels_int8.h"

/* TFLite's int8 add: inputs shifted left by 20 bits keep precision through the rescale. */
#define ES_ADD_LEFT_SHIFT 20

void es_add_s8(const int8_t *a, int32_t a_zp, int32_t a_mult, int32_t a_shift, const int8_t *b,
               int32_t b_zp, int32_t b_mult, int32_t b_shift, int8_t *out, int32_t count,
               int32_t out_zp, int32_t out_mult, int32_t out_shift, int32_t act_min,
               int32_t act_max) {
  for (int32_t i = 0; i < count; i++) {
    const int32_t sa = es_requantize(((int32_t)a[i] - a_zp) * (1 << ES_ADD_LEFT_SHIFT), a_mult, a_shift);
    const int32_t sb = es_requantize(((int32_t)b[i] - b_zp) * (1 << ES_ADD_LEFT_SHIFT), b_mult, b_shift);
    out[i] = es_clamp_to_s8(out_zp + es_requantize(sa + sb, out_mult, out_shift), act_min, act_max);
  }
}
