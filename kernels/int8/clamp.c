#include "edgespec/kernels_int8.h"

void es_clamp_s8(const int8_t *in, int8_t *out, int32_t count, int32_t lo, int32_t hi) {
  for (int32_t i = 0; i < count; i++) out[i] = es_clamp_to_s8(in[i], lo, hi);
}
