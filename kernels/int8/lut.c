/* es_lut_s8: an elementwise function of one int8 input as a 256-entry table built at
 * build time (TFLite's LUT kernels: LOGISTIC, TANH, ELU, GELU, EXP, ...): out = table[in + 128].
 * In-place allowed. */
#include "edgespec/kernels_int8.h"

void es_lut_s8(const int8_t *in, int8_t *out, int32_t count, const int8_t *table) {
  for (int32_t i = 0; i < count; i++) out[i] = table[(int32_t)in[i] + 128];
}
