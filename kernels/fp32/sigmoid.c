/* es_sigmoid_f32: out = 1 / (1 + exp(-x)). In-place allowed. */
#include "exp_approx.h"

#if ES_NEON
ES_INLINE float32x4_t sigmoid4(float32x4_t x) {
  return vdivq_f32(vdupq_n_f32(1.0f), vaddq_f32(vdupq_n_f32(1.0f), es_exp4(vnegq_f32(x))));
}
#endif

ES_INLINE void sigmoid8(es_v8 *v) {
  es_v8 e = -*v;
  es_v8_exp(&e);
  *v = 1.0f / (1.0f + e);
}

void es_sigmoid_f32(const float *in, float *out, int32_t count) {
  int32_t i = 0;
#if ES_NEON
  for (; i + 4 <= count; i += 4) vst1q_f32(out + i, sigmoid4(vld1q_f32(in + i)));
  if (i < count) { /* the tail goes through the same vector code, so every element agrees */
    float tail[4] = {0};
    memcpy(tail, in + i, (size_t)(count - i) * sizeof(float));
    vst1q_f32(tail, sigmoid4(vld1q_f32(tail)));
    memcpy(out + i, tail, (size_t)(count - i) * sizeof(float));
  }
#else
  for (; i + 8 <= count; i += 8) {
    es_v8 v = es_v8_load(in + i);
    sigmoid8(&v);
    es_v8_store(out + i, &v);
  }
  if (i < count) {
    float tail[8] = {0};
    memcpy(tail, in + i, (size_t)(count - i) * sizeof(float));
    es_v8 v = es_v8_load(tail);
    sigmoid8(&v);
    es_v8_store(tail, &v);
    memcpy(out + i, tail, (size_t)(count - i) * sizeof(float));
  }
#endif
}
