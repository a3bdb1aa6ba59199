/* es_cast_f32_i64: an index computed as a float32 number (argmax, argmin) stored as the
 * int64 the framework gives; the values are whole numbers below 2^24, so exact. */
#include "edgespec/kernels.h"

void es_cast_f32_i64(const float *in, int64_t *out, int32_t count) {
  for (int32_t i = 0; i < count; i++) out[i] = (int64_t)in[i];
}
