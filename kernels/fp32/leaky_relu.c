/* es_leaky_relu_f32: x for x >= 0, slope * x below. In-place allowed. */
#include "internal.h"

void es_leaky_relu_f32(const float *in, float *out, int32_t count, float slope) {
  for (int32_t i = 0; i < count; i++) {
    const float x = in[i];
    out[i] = x >= 0.0f ? x : x * slope;
  }
}
