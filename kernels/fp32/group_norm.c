/* es_group_norm_f32: for each of `batch` samples, the channels split into `groups` consecutive
 * groups; each group normalized over its channels and `spatial` positions (two passes), then
 * scaled by gamma[c] and shifted by beta[c] (either may be NULL). Memory is
 * [batch][spatial][channels] when channels_last, else [batch][channels][spatial]. In-place allowed. */
#include "internal.h"

#include <math.h>

void es_group_norm_f32(const float *in, const float *gamma, const float *beta, float *out, int32_t batch,
                       int32_t channels, int32_t spatial, int32_t groups, int32_t channels_last, float eps) {
  const int32_t per = channels / groups;
  const size_t c_stride = channels_last ? 1 : (size_t)spatial;
  const size_t s_stride = channels_last ? (size_t)channels : 1;
  const float count = (float)per * (float)spatial;
  for (int32_t n = 0; n < batch; n++) {
    const float *x = in + (size_t)n * channels * spatial;
    float *y = out + (size_t)n * channels * spatial;
    for (int32_t g = 0; g < groups; g++) {
      /* Summed relative to the group's first element, as in layer_norm.c: groups of 6272
       * values near 50 were 1.4e-5 of the largest output off (the sum's rounding), 1.2e-6 so. */
      const float shift = x[(size_t)g * per * c_stride];
      float sum = 0.0f;
      for (int32_t c = g * per; c < (g + 1) * per; c++)
        for (int32_t s = 0; s < spatial; s++) sum += x[c * c_stride + s * s_stride] - shift;
      const float mean = shift + sum / count;
      float squares = 0.0f;
      for (int32_t c = g * per; c < (g + 1) * per; c++)
        for (int32_t s = 0; s < spatial; s++) {
          const float d = x[c * c_stride + s * s_stride] - mean;
          squares += d * d;
        }
      const float scale = 1.0f / sqrtf(squares / count + eps);
      for (int32_t c = g * per; c < (g + 1) * per; c++) {
        const float k = scale * (gamma ? gamma[c] : 1.0f), b = beta ? beta[c] : 0.0f;
        for (int32_t s = 0; s < spatial; s++) {
          const size_t at = c * c_stride + s * s_stride;
          y[at] = (x[at] - mean) * k + b;
        }
      }
    }
  }
}
