/* es_scale_shift_f32: out[r][c] = clamp(in[r][c] * scale[c] + shift[c]). In-place allowed. */
#include "internal.h"

void es_scale_shift_f32(const float *in, const float *scale, const float *shift, float *out,
                        int32_t rows, int32_t channels, float act_min, float act_max) {
  for (int32_t r = 0; r < rows; r++) {
    const float *ip = in + (size_t)r * channels;
    float *op = out + (size_t)r * channels;
    for (int32_t c = 0; c < channels; c++) op[c] = ip[c] * scale[c] + shift[c];
    es_clamp_span(op, op, (size_t)channels, act_min, act_max);
  }
}
