/* es_gather_s8: es_gather_f32 on int8 codes (the output keeps the input's quantization, as
 * TFLite's int8 GATHER). */
#include <string.h>

#include "edgespec/kernels_int8.h"

void es_gather_s8(const int8_t *in, int8_t *out, int32_t outer, int32_t axis, int32_t inner,
                  const int32_t *indices, int32_t count) {
  for (int32_t o = 0; o < outer; o++)
    for (int32_t k = 0; k < count; k++)
      memcpy(out + ((size_t)o * count + k) * inner, in + ((size_t)o * axis + indices[k]) * inner, (size_t)inner);
}
