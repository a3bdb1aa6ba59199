/* es_cast_f32_i32: es_cast_f32_i64 for an int32 output (TFLite's ARG_MAX output_type int32). */
#include "edgespec/kernels.h"

void es_cast_f32_i32(const float *in, int32_t *out, int32_t count) {
  for (int32_t i = 0; i < count; i++) out[i] = (int32_t)in[i];
}
