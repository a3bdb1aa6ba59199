/* Shared body of the broadcasting integer kernels (add, sub, mul on int32 / int64 tensors):
 * the walk of the fp32 binaries (es_binary_plan), the arithmetic in the unsigned type of the
 * same width so that an overflow wraps as it does in PyTorch and onnxruntime. */
#ifndef EDGESPEC_INTEGER_BINARY_INT_H
#define EDGESPEC_INTEGER_BINARY_INT_H

#include "../fp32/binary.h"

#define ES_INT_BINARY_KERNEL(name, T, U, OP)                                                      \
  void name(const T *a, const int32_t a_strides[4], const T *b, const int32_t b_strides[4],       \
            T *out, const int32_t out_shape[4]) {                                                 \
    for (int k = 0; k < 4; k++)                                                                   \
      if (out_shape[k] <= 0) return;                                                              \
    const es_binary_loop l = es_binary_plan(a_strides, b_strides, out_shape);                    \
    const int32_t n3 = l.shape[3], sa = l.a_stride[3], sb = l.b_stride[3];                       \
    for (int32_t i0 = 0; i0 < l.shape[0]; i0++)                                                   \
      for (int32_t i1 = 0; i1 < l.shape[1]; i1++)                                                 \
        for (int32_t i2 = 0; i2 < l.shape[2]; i2++) {                                             \
          const T *ap = a + (ptrdiff_t)i0 * l.a_stride[0] + (ptrdiff_t)i1 * l.a_stride[1] +       \
                        (ptrdiff_t)i2 * l.a_stride[2];                                            \
          const T *bp = b + (ptrdiff_t)i0 * l.b_stride[0] + (ptrdiff_t)i1 * l.b_stride[1] +       \
                        (ptrdiff_t)i2 * l.b_stride[2];                                            \
          T *op = out + (((size_t)i0 * l.shape[1] + i1) * l.shape[2] + i2) * n3;                  \
          for (int32_t j = 0; j < n3; j++) {                                                      \
            const U x = (U)ap[(ptrdiff_t)j * sa], y = (U)bp[(ptrdiff_t)j * sb];                   \
            op[j] = (T)(U)(OP);                                                                   \
          }                                                                                       \
        }                                                                                         \
  }

#endif
