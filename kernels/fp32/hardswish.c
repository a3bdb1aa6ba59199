/* es_hardswish_f32: out = x * min(max(x + 3, 0), 6) / 6. In-place allowed. */
#include "internal.h"

void es_hardswish_f32(const float *in, float *out, int32_t count) {
  int32_t i = 0;
#if ES_NEON
  const es_bounds4 relu6 = es_bounds4_make(0.0f, 6.0f);
  const float32x4_t three = vdupq_n_f32(3.0f), sixth = vdupq_n_f32(1.0f / 6.0f);
  for (; i + 4 <= count; i += 4) {
    const float32x4_t x = vld1q_f32(in + i);
    const float32x4_t gate = es_bounds4_apply(&relu6, vaddq_f32(x, three));
    vst1q_f32(out + i, vmulq_f32(vmulq_f32(x, gate), sixth));
  }
#endif
  const es_bounds relu6_scalar = es_bounds_make(0.0f, 6.0f);
  for (; i < count; i++) {
    const float x = in[i];
    out[i] = x * es_bounds_apply(relu6_scalar, x + 3.0f) / 6.0f;
  }
}
