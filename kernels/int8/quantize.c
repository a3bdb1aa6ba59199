#include <math.h>

#include "edgespec/kernels_int8.h"

void es_quantize_s8(const float *in, int8_t *out, int32_t count, float inv_scale, int32_t zp) {
  for (int32_t i = 0; i < count; i++) {
    float v = in[i] * inv_scale;
    /* Clamp first: converting an out-of-range float to int is undefined; NaN becomes 0. */
    if (!(v > -1024.0f)) v = v != v ? 0.0f : -1024.0f;
    if (v > 1024.0f) v = 1024.0f;
    out[i] = es_clamp_to_s8((int32_t)roundf(v) + zp, -128, 127);
  }
}
