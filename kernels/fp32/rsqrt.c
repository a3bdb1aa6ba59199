/* es_rsqrt_f32: 1 / sqrt(x). In-place allowed. */
#include "internal.h"

void es_rsqrt_f32(const float *in, float *out, int32_t count) {
  for (int32_t i = 0; i < count; i++) out[i] = 1.0f / sqrtf(in[i]);
}
