/* Shared body of the broadcasting binary kernels (add.c, sub.c, mul.c, div.c): each file
 * instantiates it once, so every op stays in a file of its own for the linker map. */
#ifndef EDGESPEC_FP32_BINARY_H
#define EDGESPEC_FP32_BINARY_H

#include "internal.h"

typedef struct {
  int32_t rank;
  int32_t shape[4], a_stride[4], b_stride[4];
} es_binary_loop;

/* Drops size-1 dimensions and merges neighbours that both operands walk contiguously, so
 * dense operands become one long inner loop and per-channel broadcasts a loop over C. */
static inline es_binary_loop es_binary_plan(const int32_t a_strides[4], const int32_t b_strides[4],
                                            const int32_t out_shape[4]) {
  es_binary_loop l = {0, {0}, {0}, {0}};
  for (int k = 0; k < 4; k++) {
    if (out_shape[k] == 1) continue;
    if (l.rank > 0) {
      const int j = l.rank - 1; /* try to merge dim k into the previous kept dim */
      if ((int64_t)l.a_stride[j] == (int64_t)a_strides[k] * out_shape[k] &&
          (int64_t)l.b_stride[j] == (int64_t)b_strides[k] * out_shape[k]) {
        l.shape[j] *= out_shape[k];
        l.a_stride[j] = a_strides[k];
        l.b_stride[j] = b_strides[k];
        continue;
      }
    }
    l.shape[l.rank] = out_shape[k];
    l.a_stride[l.rank] = a_strides[k];
    l.b_stride[l.rank] = b_strides[k];
    l.rank++;
  }
  /* Right-align into 4 dims. */
  es_binary_loop r = {4, {1, 1, 1, 1}, {0}, {0}};
  for (int k = 0; k < l.rank; k++) {
    const int d = 4 - l.rank + k;
    r.shape[d] = l.shape[k];
    r.a_stride[d] = l.a_stride[k];
    r.b_stride[d] = l.b_stride[k];
  }
  return r;
}

#define ES_BINARY_KERNEL(name, OP)                                                                 \
  void name(const float *a, const int32_t a_strides[4], const float *b, const int32_t b_strides[4], \
            float *out, const int32_t out_shape[4], float lo, float hi) {                         \
    for (int k = 0; k < 4; k++)                                                                    \
      if (out_shape[k] <= 0) return;                                                               \
    const es_binary_loop l = es_binary_plan(a_strides, b_strides, out_shape);                     \
    const int32_t n3 = l.shape[3], sa = l.a_stride[3], sb = l.b_stride[3];                        \
    const int clamp = lo > -INFINITY || hi < INFINITY;                                             \
    for (int32_t i0 = 0; i0 < l.shape[0]; i0++)                                                    \
      for (int32_t i1 = 0; i1 < l.shape[1]; i1++)                                                  \
        for (int32_t i2 = 0; i2 < l.shape[2]; i2++) {                                              \
          const float *ap = a + (ptrdiff_t)i0 * l.a_stride[0] + (ptrdiff_t)i1 * l.a_stride[1] +    \
                            (ptrdiff_t)i2 * l.a_stride[2];                                         \
          const float *bp = b + (ptrdiff_t)i0 * l.b_stride[0] + (ptrdiff_t)i1 * l.b_stride[1] +    \
                            (ptrdiff_t)i2 * l.b_stride[2];                                         \
          float *op = out + (((size_t)i0 * l.shape[1] + i1) * l.shape[2] + i2) * n3;               \
          if (sa == 1 && sb == 1) {                                                                \
            for (int32_t j = 0; j < n3; j++) {                                                     \
              const float x = ap[j], y = bp[j];                                                    \
              op[j] = (OP);                                                       \
            }                                                                                      \
          } else if (sa == 1 && sb == 0) {                                                         \
            const float y = bp[0];                                                                 \
            for (int32_t j = 0; j < n3; j++) {                                                     \
              const float x = ap[j];                                                               \
              op[j] = (OP);                                                       \
            }                                                                                      \
          } else if (sa == 0 && sb == 1) {                                                         \
            const float x = ap[0];                                                                 \
            for (int32_t j = 0; j < n3; j++) {                                                     \
              const float y = bp[j];                                                               \
              op[j] = (OP);                                                       \
            }                                                                                      \
          } else {                                                                                 \
            for (int32_t j = 0; j < n3; j++) {                                                     \
              const float x = ap[(ptrdiff_t)j * sa], y = bp[(ptrdiff_t)j * sb];                    \
              op[j] = (OP);                                                       \
            }                                                                                      \
          }                                                                                        \
          if (clamp) es_clamp_span(op, op, (size_t)n3, lo, hi);                                    \
        }                                                                                          \
  }

#endif
