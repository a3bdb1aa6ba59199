/* es_mul_s8: TFLite's MUL int8, broadcast over 4 dims (strides as es_add_f32):
 * out = clamp(out_zp + requant((qa - a_zp) * (qb - b_zp), mult, shift), act_min, act_max),
 * mult/shift the fixed-point a_scale * b_scale / out_scale. The product of two codes less
 * their zero points fits int32 (at most 255 * 255). */
#include "broadcast4_s8.h"
#include "edgespec/kernels_int8.h"

void es_mul_s8(const int8_t *a, const int32_t a_strides[4], int32_t a_zp, const int8_t *b, const int32_t b_strides[4],
               int32_t b_zp, int8_t *out, const int32_t out_shape[4], int32_t out_zp, int32_t mult, int32_t shift,
               int32_t act_min, int32_t act_max) {
  ES_S8_BROADCAST4(a, a_strides, b, b_strides, out_shape, {
    out[o] = es_clamp_to_s8(out_zp + es_requantize((qa - a_zp) * (qb - b_zp), mult, shift), act_min, act_max);
  });
}
