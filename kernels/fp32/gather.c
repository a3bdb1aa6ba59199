/* es_gather_f32: out[o][k][i] = in[o][indices[k]][i] for [outer][axis][inner] memory; the
 * indices are constants, checked at build time to lie in [0, axis). */
#include <string.h>

#include "internal.h"

void es_gather_f32(const float *in, float *out, int32_t outer, int32_t axis, int32_t inner,
                   const int32_t *indices, int32_t count) {
  for (int32_t o = 0; o < outer; o++)
    for (int32_t k = 0; k < count; k++)
      memcpy(out + ((size_t)o * count + k) * inner, in + ((size_t)o * axis + indices[k]) * inner,
             (size_t)inner * sizeof(float));
}
