/* es_gelu_f32: exact x * (1 + erf(x / sqrt 2)) / 2, or with tanh_approximation
 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3))) / 2. In-place allowed. */
#include <math.h>

#include "internal.h"

void es_gelu_f32(const float *in, float *out, int32_t count, int32_t tanh_approximation) {
  if (tanh_approximation) {
    const float k = 0.7978845608028654f; /* sqrt(2 / pi) */
    for (int32_t i = 0; i < count; i++) {
      const float x = in[i];
      out[i] = 0.5f * x * (1.0f + tanhf(k * (x + 0.044715f * x * x * x)));
    }
  } else {
    for (int32_t i = 0; i < count; i++) out[i] = 0.5f * in[i] * (1.0f + erff(in[i] * 0.7071067811865476f));
  }
}
