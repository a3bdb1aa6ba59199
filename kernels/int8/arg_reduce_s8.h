/* Shared body of es_argmax_s8 and es_argmin_s8 (argmax.c, argmin.c): es_argmax_f32 /
 * es_argmin_f32 on int8 codes. The index (as a float, like the fp32 kernels') of the code that
 * BEATS all others along the middle axis of [outer][reduce][inner], the first of equal ones or
 * the last when `last` is set. Codes order as their real values do (the scale is positive), so
 * this is TFLite's int8 ARG_MAX / ARG_MIN without dequantizing. */
#ifndef EDGESPEC_INT8_ARG_REDUCE_S8_H
#define EDGESPEC_INT8_ARG_REDUCE_S8_H

#include <stddef.h>

#include "edgespec/kernels_int8.h"

#define ES_ARG_REDUCE_S8_KERNEL(name, BEATS)                                                          \
  void name(const int8_t *in, float *out, int32_t outer, int32_t reduce, int32_t inner, int32_t last) { \
    for (int32_t o = 0; o < outer; o++) {                                                             \
      const int8_t *x = in + (size_t)o * (size_t)reduce * (size_t)inner;                              \
      for (int32_t i = 0; i < inner; i++) {                                                           \
        int32_t best = 0;                                                                             \
        int8_t v = x[i];                                                                              \
        for (int32_t r = 1; r < reduce; r++) {                                                        \
          const int8_t c = x[(size_t)r * (size_t)inner + i];                                          \
          if (BEATS(c, v) || (last && c == v)) {                                                      \
            v = c;                                                                                    \
            best = r;                                                                                 \
          }                                                                                           \
        }                                                                                             \
        out[(size_t)o * (size_t)inner + i] = (float)best;                                             \
      }                                                                                               \
    }                                                                                                 \
  }

#endif
