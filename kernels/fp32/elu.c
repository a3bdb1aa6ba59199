/* es_elu_f32: x for x > 0, alpha * (exp(x) - 1) below (expm1f keeps small |x| exact). In-place allowed. */
#include "internal.h"

void es_elu_f32(const float *in, float *out, int32_t count, float alpha) {
  for (int32_t i = 0; i < count; i++) {
    const float x = in[i];
    out[i] = x > 0.0f ? x : alpha * expm1f(x);
  }
}
