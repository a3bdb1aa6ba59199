/* es_log_f32: logf of each element. In-place allowed. */
#include "internal.h"

void es_log_f32(const float *in, float *out, int32_t count) {
  for (int32_t i = 0; i < count; i++) out[i] = logf(in[i]);
}
