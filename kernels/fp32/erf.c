/* es_erf_f32: erff of each element. In-place allowed. */
#include "internal.h"

void es_erf_f32(const float *in, float *out, int32_t count) {
  for (int32_t i = 0; i < count; i++) out[i] = erff(in[i]);
}
