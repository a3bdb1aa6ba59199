/* Shared body of es_maximum_s8 and es_minimum_s8 (maximum.c, minimum.c): a 4-D broadcast walk
 * (broadcast4_s8.h), each operand brought to the output's parameters
 * (out_zp + requant(q - zp)) unless its mult is 0 (its codes already are: TFLite's case),
 * then the larger or smaller code, clamped to [act_min, act_max]. */
#ifndef EDGESPEC_INT8_MAX_MIN_S8_H
#define EDGESPEC_INT8_MAX_MIN_S8_H

#include "broadcast4_s8.h"
#include "edgespec/kernels_int8.h"

static inline int32_t es_s8_to_output(int8_t q, int32_t zp, int32_t mult, int32_t shift, int32_t out_zp) {
  return mult == 0 ? (int32_t)q : out_zp + es_requantize((int32_t)q - zp, mult, shift);
}

#define ES_MAX_MIN_S8_KERNEL(name, PICK)                                                                \
  void name(const int8_t *a, const int32_t a_strides[4], int32_t a_zp, int32_t a_mult, int32_t a_shift, \
            const int8_t *b, const int32_t b_strides[4], int32_t b_zp, int32_t b_mult, int32_t b_shift, \
            int8_t *out, const int32_t out_shape[4], int32_t out_zp, int32_t act_min, int32_t act_max) { \
    ES_S8_BROADCAST4(a, a_strides, b, b_strides, out_shape, {                                           \
      const int32_t x = es_s8_to_output((int8_t)qa, a_zp, a_mult, a_shift, out_zp);                     \
      const int32_t y = es_s8_to_output((int8_t)qb, b_zp, b_mult, b_shift, out_zp);                     \
      out[o] = es_clamp_to_s8(PICK, act_min, act_max);                                                  \
    });                                                                                                 \
  }

#endif
