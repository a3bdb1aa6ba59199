/* es_mish_f32: x * tanh(softplus(x)), softplus as (max(x, 0) + log1p(exp(-|x|))). In-place allowed. */
#include "internal.h"

void es_mish_f32(const float *in, float *out, int32_t count) {
  for (int32_t i = 0; i < count; i++) {
    const float x = in[i];
    const float softplus = (x > 0.0f ? x : 0.0f) + log1pf(expf(-fabsf(x)));
    out[i] = x * tanhf(softplus);
  }
}
