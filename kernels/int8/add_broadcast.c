/* es_add_broadcast_s8: TFLite's ADD int8 (the arithmetic of es_add_s8, kernels/int8/add.c)
 * broadcast over 4 dims (strides as es_add_f32), for an operand that is a constant or is
 * broadcast along dims longer than 1 (a bias row, a scalar): each operand less its zero point
 * is shifted left by 20 bits and rescaled to twice the larger input scale, the sum requantized
 * to the output, clamped. */
#include "broadcast4_s8.h"
#include "edgespec/kernels_int8.h"

#define ES_ADD_LEFT_SHIFT 20

void es_add_broadcast_s8(const int8_t *a, const int32_t a_strides[4], int32_t a_zp, int32_t a_mult, int32_t a_shift,
                         const int8_t *b, const int32_t b_strides[4], int32_t b_zp, int32_t b_mult, int32_t b_shift,
                         int8_t *out, const int32_t out_shape[4], int32_t out_zp, int32_t out_mult, int32_t out_shift,
                         int32_t act_min, int32_t act_max) {
  ES_S8_BROADCAST4(a, a_strides, b, b_strides, out_shape, {
    const int32_t sum = es_requantize((qa - a_zp) * (1 << ES_ADD_LEFT_SHIFT), a_mult, a_shift) +
                        es_requantize((qb - b_zp) * (1 << ES_ADD_LEFT_SHIFT), b_mult, b_shift);
    out[o] = es_clamp_to_s8(out_zp + es_requantize(sum, out_mult, out_shift), act_min, act_max);
  });
}
