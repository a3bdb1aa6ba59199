/* es_sigmoid_f32: out = 1 / (1 + exp(-x)). In-place allowed. */
#include <math.h>

#include "internal.h"

void es_sigmoid_f32(const float *in, float *out, int32_t count) {
  for (int32_t i = 0; i < count; i++) out[i] = 1.0f / (1.0f + expf(-in[i]));
}
