/* es_softplus_f32: x where beta * x > threshold, else log(1 + exp(beta * x)) / beta, computed as
 * (max(z, 0) + log1p(exp(-|z|))) / beta so that exp never overflows. threshold = +inf for none.
 * In-place allowed. */
#include "internal.h"

void es_softplus_f32(const float *in, float *out, int32_t count, float beta, float threshold) {
  const float inv_beta = 1.0f / beta;
  for (int32_t i = 0; i < count; i++) {
    const float x = in[i];
    const float z = x * beta;
    if (z > threshold) {
      out[i] = x;
    } else {
      const float positive = z > 0.0f ? z : (z != z ? z : 0.0f); /* NaN stays NaN */
      out[i] = (positive + log1pf(expf(-fabsf(z)))) * inv_beta;
    }
  }
}
