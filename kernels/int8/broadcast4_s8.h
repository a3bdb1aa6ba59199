/* The 4-D broadcast walk of the int8 binary kernels (add_broadcast.c, sub.c, mul.c, maximum.c,
 * minimum.c): strides as the fp32 binary kernels' (a stride of 0 repeats an operand along that
 * dim). For each output element in order, STEP runs with qa and qb, the two operands' codes as
 * int32, and o, the output's index. */
#ifndef EDGESPEC_INT8_BROADCAST4_S8_H
#define EDGESPEC_INT8_BROADCAST4_S8_H

#include <stddef.h>

#define ES_S8_BROADCAST4(a, a_strides, b, b_strides, out_shape, STEP)                                           \
  do {                                                                                                          \
    size_t o = 0;                                                                                               \
    for (int32_t i0 = 0; i0 < (out_shape)[0]; i0++)                                                             \
      for (int32_t i1 = 0; i1 < (out_shape)[1]; i1++)                                                           \
        for (int32_t i2 = 0; i2 < (out_shape)[2]; i2++) {                                                       \
          const int8_t *row_a = (a) + (ptrdiff_t)i0 * (a_strides)[0] + (ptrdiff_t)i1 * (a_strides)[1] +         \
                                (ptrdiff_t)i2 * (a_strides)[2];                                                 \
          const int8_t *row_b = (b) + (ptrdiff_t)i0 * (b_strides)[0] + (ptrdiff_t)i1 * (b_strides)[1] +         \
                                (ptrdiff_t)i2 * (b_strides)[2];                                                 \
          for (int32_t i3 = 0; i3 < (out_shape)[3]; i3++, o++) {                                                \
            const int32_t qa = row_a[(ptrdiff_t)i3 * (a_strides)[3]];                                           \
            const int32_t qb = row_b[(ptrdiff_t)i3 * (b_strides)[3]];                                           \
            STEP;                                                                                               \
          }                                                                                                     \
        }                                                                                                       \
  } while (0)

#endif
