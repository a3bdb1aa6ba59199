#include "edgespec/kernels_int8.h"

#if defined(__ARM_NEON) && !defined(ES_NO_NEON)
#include <arm_neon.h>
#define ES_NEON 1
#endif

/* Sum over k of a[k] * w[k]. Weights are in [-127, 127], so two products fit an int16 lane
 * (2 * 128 * 127 < 2^15): multiply-long, multiply-accumulate-long, then pairwise-add into
 * int32 (cortex-a72 has no sdot). */
static inline int32_t dot_s8(const int8_t *a, const int8_t *w, int32_t k) {
  int32_t i = 0;
  int32_t sum = 0;
#if ES_NEON
  int32x4_t acc = vdupq_n_s32(0);
  for (; i + 16 <= k; i += 16) {
    int8x16_t va = vld1q_s8(a + i);
    int8x16_t vw = vld1q_s8(w + i);
    int16x8_t p = vmull_s8(vget_low_s8(va), vget_low_s8(vw));
    p = vmlal_high_s8(p, va, vw);
    acc = vpadalq_s16(acc, p);
  }
  for (; i + 8 <= k; i += 8) acc = vpadalq_s16(acc, vmull_s8(vld1_s8(a + i), vld1_s8(w + i)));
  sum = vaddvq_s32(acc);
#endif
  for (; i < k; i++) sum += (int32_t)a[i] * (int32_t)w[i];
  return sum;
}

void es_gemm_s8(const int8_t *a, const int8_t *weights, const int32_t *bias, int8_t *out,
                int32_t m, int32_t k, int32_t n, int32_t out_zp, const int32_t *mult,
                const int8_t *shift, int32_t act_min, int32_t act_max) {
  for (int32_t row = 0; row < m; row++) {
    const int8_t *ar = a + (int64_t)row * k;
    int8_t *o = out + (int64_t)row * n;
    for (int32_t col = 0; col < n; col++) {
      int32_t acc = dot_s8(ar, weights + (int64_t)col * k, k) + (bias ? bias[col] : 0);
      o[col] = es_clamp_to_s8(out_zp + es_requantize(acc, mult[col], shift[col]), act_min, act_max);
    }
  }
}
