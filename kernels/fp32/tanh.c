/* es_tanh_f32: out = tanh(x). In-place allowed. */
#include <math.h>

#include "internal.h"

void es_tanh_f32(const float *in, float *out, int32_t count) {
  for (int32_t i = 0; i < count; i++) out[i] = tanhf(in[i]);
}
