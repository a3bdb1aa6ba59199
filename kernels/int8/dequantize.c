#include "edgespec/kernels_int8.h"

void es_dequantize_s8(const int8_t *in, float *out, int32_t count, float scale, int32_t zp) {
  for (int32_t i = 0; i < count; i++) out[i] = scale * (float)((int32_t)in[i] - zp);
}
