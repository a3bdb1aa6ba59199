/* es_selu_f32: scale * (x for x > 0, alpha * (exp(x) - 1) below), with SELU's constants.
 * In-place allowed. */
#include "internal.h"

#define ES_SELU_ALPHA 1.6732632423543772f
#define ES_SELU_SCALE 1.0507009873554805f

void es_selu_f32(const float *in, float *out, int32_t count) {
  for (int32_t i = 0; i < count; i++) {
    const float x = in[i];
    out[i] = ES_SELU_SCALE * (x > 0.0f ? x : ES_SELU_ALPHA * expm1f(x));
  }
}
