/* es_mul_scalar_f32: out[i] = clamp(a[i] * s). In-place allowed. */
#include "internal.h"

void es_mul_scalar_f32(const float *a, float s, float *out, int32_t count, float act_min, float act_max) {
  for (int32_t i = 0; i < count; i++) out[i] = a[i] * s;
  if (count > 0) es_clamp_span(out, out, (size_t)count, act_min, act_max);
}
