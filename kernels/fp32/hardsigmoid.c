/* es_hardsigmoid_f32: out = min(max(x + 3, 0), 6) / 6. In-place allowed. */
#include "internal.h"

void es_hardsigmoid_f32(const float *in, float *out, int32_t count) {
  int32_t i = 0;
#if ES_NEON
  const es_bounds4 relu6 = es_bounds4_make(0.0f, 6.0f);
  const float32x4_t three = vdupq_n_f32(3.0f), sixth = vdupq_n_f32(1.0f / 6.0f);
  for (; i + 4 <= count; i += 4)
    vst1q_f32(out + i, vmulq_f32(es_bounds4_apply(&relu6, vaddq_f32(vld1q_f32(in + i), three)), sixth));
#endif
  const es_bounds relu6_scalar = es_bounds_make(0.0f, 6.0f);
  for (; i < count; i++) out[i] = es_bounds_apply(relu6_scalar, in[i] + 3.0f) / 6.0f;
}
