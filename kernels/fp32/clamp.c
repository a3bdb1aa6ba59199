/* es_clamp_f32: out[i] = min(max(in[i], lo), hi); relu and relu6 are clamps. In-place allowed. */
#include "internal.h"

void es_clamp_f32(const float *in, float *out, int32_t count, float lo, float hi) {
  if (count > 0) es_clamp_span(in, out, (size_t)count, lo, hi);
}
