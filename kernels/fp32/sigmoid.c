/* es_sigmoid_f32: out = 1 / (1 + exp(-x)). In-place allowed. */
#include "exp_approx.h"

#if ES_NEON
ES_INLINE float32x4_t sigmoid4(float32x4_t x) {
  return vdivq_f32(vdupq_n_f32(1.0f), vaddq_f32(vdupq_n_f32(1.0f), es_exp4(vnegq_f32(x))));
}

void es_sigmoid_f32(const float *in, float *out, int32_t count) {
  int32_t i = 0;
  for (; i + 4 <= count; i += 4) vst1q_f32(out + i, sigmoid4(vld1q_f32(in + i)));
  if (i < count) { /* the tail goes through the same vector code, so every element agrees */
    float tail[4] = {0};
    memcpy(tail, in + i, (size_t)(count - i) * sizeof(float));
    vst1q_f32(tail, sigmoid4(vld1q_f32(tail)));
    memcpy(out + i, tail, (size_t)(count - i) * sizeof(float));
  }
}
#else
ES_DEFINE_LOGISTIC_KERNEL(es_sigmoid_f32, 1.0f / (h * 2.0f + 1.0f))
#endif
