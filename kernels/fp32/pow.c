/* es_pow_f32: x ^ exponent (powf); the common square is one multiply, which powf also
 * rounds exactly. In-place allowed. */
#include "internal.h"

void es_pow_f32(const float *in, float *out, int32_t count, float exponent) {
  if (exponent == 2.0f) {
    for (int32_t i = 0; i < count; i++) out[i] = in[i] * in[i];
    return;
  }
  for (int32_t i = 0; i < count; i++) out[i] = powf(in[i], exponent);
}
