/* es_matmul_f32: batched product of two activations; each batch is a GEMM without bias. */
#include <math.h>

#include "internal.h"

void es_matmul_f32(const float *a, const float *b, float *out, int32_t batch, int32_t m,
                   int32_t k, int32_t n, int32_t a_bstride, int32_t b_bstride) {
  if (batch <= 0 || m <= 0 || n <= 0) return;
  for (int32_t i = 0; i < batch; i++)
    es_gemm_f32(a + (size_t)i * a_bstride, b + (size_t)i * b_bstride, NULL, out + (size_t)i * m * n,
                m, k, n, -INFINITY, INFINITY);
}
