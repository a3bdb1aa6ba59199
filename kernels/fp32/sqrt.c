/* es_sqrt_f32: sqrtf of each element. In-place allowed. */
#include "internal.h"

void es_sqrt_f32(const float *in, float *out, int32_t count) {
  for (int32_t i = 0; i < count; i++) out[i] = sqrtf(in[i]);
}
