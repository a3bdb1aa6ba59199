/* es_layer_norm_f32: each of `outer` rows of `inner` elements normalized to zero mean and unit
 * variance (two passes: the mean, then the mean squared deviation), then scaled by gamma[i] and
 * shifted by beta[i] (either may be NULL). In-place allowed. */
#include "internal.h"

#include <math.h>

void es_layer_norm_f32(const float *in, const float *gamma, const float *beta, float *out, int32_t outer,
                       int32_t inner, float eps) {
  for (int32_t o = 0; o < outer; o++) {
    const float *x = in + (size_t)o * inner;
    float *y = out + (size_t)o * inner;
    /* Summed relative to the first element: rows far from zero (300 values near 100) lost
     * about 6e-5 of their mean to the sum's rounding, which the normalization scales up. */
    const float shift = x[0];
    float sum = 0.0f;
    for (int32_t i = 0; i < inner; i++) sum += x[i] - shift;
    const float mean = shift + sum / (float)inner;
    float squares = 0.0f;
    for (int32_t i = 0; i < inner; i++) squares += (x[i] - mean) * (x[i] - mean);
    const float scale = 1.0f / sqrtf(squares / (float)inner + eps);
    for (int32_t i = 0; i < inner; i++) {
      const float v = (x[i] - mean) * scale;
      y[i] = v * (gamma ? gamma[i] : 1.0f) + (beta ? beta[i] : 0.0f);
    }
  }
}
