/* edgespec int8 kernels: the contract between generated model code and kernels/int8/.
 *
 * Quantization (post-training, static; TFLite-compatible arithmetic):
 * - activations: per-tensor asymmetric int8, real = scale * (q - zero_point);
 * - weights: per-output-channel symmetric int8 in [-127, 127] (zero point 0);
 * - bias: int32 at scale input_scale * weight_scale[c].
 * - Requantization: out = zp + MultiplyByQuantizedMultiplier(acc, mult, shift), where
 *   mult is a Q0.31 fixed-point multiplier in [2^30, 2^31) and shift > 0 shifts left,
 *   < 0 right (es_requantize below; rounding as TFLite's SaturatingRoundingDoublingHighMul
 *   and RoundingDivideByPOT).
 * - act_min / act_max: the fused clamp, already in the output's int8 domain.
 *
 * Convolution bias is "zero-point folded" by the build: bias[c] - in_zp * sum of the
 * channel's weights over the whole window, and padded input pixels read as in_zp. The sum
 * over the window of q * w then equals TFLite's sum of (q - in_zp) * w exactly.
 *
 * Activations are NHWC, as in kernels.h. One kernel, one file (kernels/int8/<name>.c).
 */
#ifndef EDGESPEC_KERNELS_INT8_H
#define EDGESPEC_KERNELS_INT8_H

#include <stdint.h>

#include "edgespec/kernels.h"

#ifdef __cplusplus
extern "C" {
#endif

/* fp32 <-> int8 at the edges of the int8 part of a model, and around fp32 fallbacks.
 * quantize: q = clamp(round_half_away(x * inv_scale) + zp, -128, 127). */
void es_quantize_s8(const float *in, int8_t *out, int32_t count, float inv_scale, int32_t zp);
/* dequantize: x = scale * (q - zp). */
void es_dequantize_s8(const int8_t *in, float *out, int32_t count, float scale, int32_t zp);

/* es_conv2d_s8, es_conv2d_depthwise_s8 and es_gemm_s8 take a pack slot: 0, or a number from 1 to ES_S8_PACK_SLOTS
 * that no call with other weights, bias, mult or shift uses, which says that these are
 * constants of the image (the build's weights). A path that repacks the weights for its CPU
 * (the host's AVX-512 VNNI panels and depthwise phases) then packs them on the slot's first call and keeps them
 * (heap memory, for the life of the process); with 0 it packs them on every call. Other
 * paths ignore it. */
#define ES_S8_PACK_SLOTS 4096

/* conv2d, general case. weights [OC][KH][KW][IC/groups]; bias [OC] zero-point folded;
 * mult / shift per output channel. */
void es_conv2d_s8(const int8_t *in, es_shape4 is, int32_t in_zp, const int8_t *weights,
                  const int32_t *bias, int8_t *out, es_shape4 os, int32_t kh, int32_t kw,
                  int32_t stride_h, int32_t stride_w, int32_t pad_top, int32_t pad_left,
                  int32_t dilation_h, int32_t dilation_w, int32_t groups, int32_t out_zp,
                  const int32_t *mult, const int8_t *shift, int32_t act_min, int32_t act_max,
                  int32_t pack_slot);

/* depthwise conv2d (channel multiplier 1). weights [KH][KW][C]; bias [C] zero-point folded. */
void es_conv2d_depthwise_s8(const int8_t *in, es_shape4 is, int32_t in_zp, const int8_t *weights,
                            const int32_t *bias, int8_t *out, es_shape4 os, int32_t kh,
                            int32_t kw, int32_t stride_h, int32_t stride_w, int32_t pad_top,
                            int32_t pad_left, int32_t dilation_h, int32_t dilation_w,
                            int32_t out_zp, const int32_t *mult, const int8_t *shift,
                            int32_t act_min, int32_t act_max, int32_t pack_slot);

/* out[m][n] = requant(bias[n] + sum_k a[m][k] * w[n][k]): pointwise conv and linear.
 * weights [N][K] (rows per output channel); bias [N] zero-point folded (bias - a_zp * sum_k w). */
void es_gemm_s8(const int8_t *a, const int8_t *weights, const int32_t *bias, int8_t *out,
                int32_t m, int32_t k, int32_t n, int32_t out_zp, const int32_t *mult,
                const int8_t *shift, int32_t act_min, int32_t act_max, int32_t pack_slot);

/* Elementwise add of two same-shape tensors with their own scales (TFLite's add):
 * both inputs are shifted left by 20 bits, rescaled to a common scale, summed, requantized.
 * In-place (out == a or out == b) allowed. */
void es_add_s8(const int8_t *a, int32_t a_zp, int32_t a_mult, int32_t a_shift, const int8_t *b,
               int32_t b_zp, int32_t b_mult, int32_t b_shift, int8_t *out, int32_t count,
               int32_t out_zp, int32_t out_mult, int32_t out_shift, int32_t act_min,
               int32_t act_max);

/* Pools keep the input's quantization (scale and zero point). */
void es_max_pool2d_s8(const int8_t *in, es_shape4 is, int8_t *out, es_shape4 os, int32_t kh,
                      int32_t kw, int32_t stride_h, int32_t stride_w, int32_t pad_top,
                      int32_t pad_left, int32_t dilation_h, int32_t dilation_w, int32_t act_min,
                      int32_t act_max);
/* Average over the window; divisor as kernels.h's es_avg_pool2d_f32 (count_include_pad,
 * divisor_override): out = zp + round_half_away(sum (q - zp) / divisor). */
void es_avg_pool2d_s8(const int8_t *in, es_shape4 is, int8_t *out, es_shape4 os, int32_t kh,
                      int32_t kw, int32_t stride_h, int32_t stride_w, int32_t pad_top,
                      int32_t pad_left, int32_t pad_bottom, int32_t pad_right,
                      int32_t count_include_pad, int32_t divisor_override, int32_t zp,
                      int32_t act_min, int32_t act_max);

/* Mean over the middle axis of [outer][reduce][inner]:
 * out = out_zp + requant(sum (q - in_zp), mult, shift), mult/shift encoding
 * in_scale / (out_scale * reduce). */
void es_mean_s8(const int8_t *in, int8_t *out, int32_t outer, int32_t reduce, int32_t inner,
                int32_t in_zp, int32_t out_zp, int32_t mult, int32_t shift);

/* Largest / smallest code over the middle axis of [outer][reduce][inner] (input and output
 * share one scale and zero point, as TFLite's int8 REDUCE_MAX / REDUCE_MIN). */
void es_reduce_max_s8(const int8_t *in, int8_t *out, int32_t outer, int32_t reduce, int32_t inner);
void es_reduce_min_s8(const int8_t *in, int8_t *out, int32_t outer, int32_t reduce, int32_t inner);
/* es_strided_copy_f32 on int8 codes (slice, expand, tile: the output keeps the input's parameters). */
void es_strided_copy_s8(const int8_t *in, int8_t *out, int32_t rank, const int32_t *shape,
                        const int32_t *strides, int32_t offset);
/* es_gather_f32 on int8 codes (the output keeps the input's parameters). */
void es_gather_s8(const int8_t *in, int8_t *out, int32_t outer, int32_t axis, int32_t inner,
                  const int32_t *indices, int32_t count);
/* es_take_f32 on int8 codes (the output keeps the table's parameters); the indices stay integers. */
int es_take_s8(const int8_t *in, int8_t *out, int32_t outer, int32_t axis, int32_t inner,
               const void *indices, int32_t index_bytes, int32_t count, int32_t allow_negative,
               es_input_fault *fault, const char *tensor);

/* Nearest resize of int8 codes (es_resize_nearest_f32's index rule; one quantization for
 * input and output, as TFLite's RESIZE_NEAREST_NEIGHBOR). */
void es_resize_nearest_s8(const int8_t *in, es_shape4 is, int8_t *out, es_shape4 os, float inv_h,
                          float inv_w, float offset_in, float offset_out, int32_t nearest_mode,
                          int32_t divide);

/* Bilinear resize of int8 codes as TFLite's int8 RESIZE_BILINEAR: source step scale_h_10 /
 * scale_w_10 in 1/1024 units (half_pixel: centres), codes blended in 10-bit fixed point and
 * rounded half away from zero; one quantization for input and output. */
void es_resize_bilinear_s8(const int8_t *in, es_shape4 is, int8_t *out, es_shape4 os, int32_t scale_h_10,
                           int32_t scale_w_10, int32_t half_pixel);

/* es_pad_mirror_f32 on int8 codes (one quantization for input and output). */
void es_pad_mirror_s8(const int8_t *in, const int32_t *in_shape, const int32_t *pads, int32_t rank,
                      int32_t mode, int8_t *out);

/* Concatenation of [outer][sizes[i]][inner] pieces. Each piece is requantized to the
 * output's parameters unless mults[i] == 0 (same scale and zero point: a copy). */
void es_concat_s8(const int8_t *const *ins, const int32_t *sizes, int32_t count, int8_t *out,
                  int32_t outer, int32_t inner, const int32_t *in_zps, const int32_t *mults,
                  const int32_t *shifts, int32_t out_zp);

/* Clamp in the int8 domain (same quantization in and out). In-place allowed. */
void es_clamp_s8(const int8_t *in, int8_t *out, int32_t count, int32_t lo, int32_t hi);
/* TFLite's LEAKY_RELU: x = in - in_zp; out = clamp(out_zp + requant(x, identity) if x >= 0,
 * else out_zp + requant(x, alpha)), identity = in_scale / out_scale and
 * alpha = slope * in_scale / out_scale. In-place allowed. */
void es_leaky_relu_s8(const int8_t *in, int8_t *out, int32_t count, int32_t in_zp, int32_t out_zp,
                      int32_t identity_mult, int32_t identity_shift, int32_t alpha_mult, int32_t alpha_shift);
/* TFLite's ABS: out = out_zp + |q - in_zp|, requantized (mult, shift: in_scale / out_scale)
 * only when mult != 0. In-place allowed. */
void es_abs_s8(const int8_t *in, int8_t *out, int32_t count, int32_t in_zp, int32_t out_zp, int32_t mult,
               int32_t shift);
/* TFLite's NEG (one scale in and out): out = in_zp + out_zp - q, saturated. In-place allowed. */
void es_neg_s8(const int8_t *in, int8_t *out, int32_t count, int32_t zero_point_sum);
/* A function of one input as a table built with the model: out = table[in + 128] (256 entries,
 * TFLite's LUT activations). In-place allowed. */
void es_lut_s8(const int8_t *in, int8_t *out, int32_t count, const int8_t *table);
/* TFLite's MUL, broadcast over 4 dims (strides as es_add_f32): out = clamp(out_zp +
 * requant((qa - a_zp) * (qb - b_zp), mult, shift), act_min, act_max), the multiplier being
 * a_scale * b_scale / out_scale. */
/* TFLite's SUB, broadcast over 4 dims (strides as es_sub_f32), the scheme of es_add_s8:
 * sa = requant((qa - a_zp) << 20, a_mult, a_shift), sb likewise, out = clamp(out_zp +
 * requant(sa - sb, out_mult, out_shift), act_min, act_max). */
void es_sub_s8(const int8_t *a, const int32_t a_strides[4], int32_t a_zp, int32_t a_mult, int32_t a_shift,
               const int8_t *b, const int32_t b_strides[4], int32_t b_zp, int32_t b_mult, int32_t b_shift, int8_t *out,
               const int32_t out_shape[4], int32_t out_zp, int32_t out_mult, int32_t out_shift, int32_t act_min,
               int32_t act_max);
/* TFLite's ADD, broadcast over 4 dims (strides as es_add_f32), es_add_s8's arithmetic: out =
 * clamp(out_zp + requant(sa + sb, out_mult, out_shift), act_min, act_max), sa and sb as in
 * es_sub_s8. For a constant operand or one broadcast along dims longer than 1. */
void es_add_broadcast_s8(const int8_t *a, const int32_t a_strides[4], int32_t a_zp, int32_t a_mult, int32_t a_shift,
                         const int8_t *b, const int32_t b_strides[4], int32_t b_zp, int32_t b_mult, int32_t b_shift,
                         int8_t *out, const int32_t out_shape[4], int32_t out_zp, int32_t out_mult, int32_t out_shift,
                         int32_t act_min, int32_t act_max);
/* The index (as a float, like es_argmax_f32's) of the largest / smallest code along the middle axis of
 * [outer][reduce][inner]: the first of equal ones, or the last when `last` is set. */
void es_argmax_s8(const int8_t *in, float *out, int32_t outer, int32_t reduce, int32_t inner, int32_t last);
void es_argmin_s8(const int8_t *in, float *out, int32_t outer, int32_t reduce, int32_t inner, int32_t last);
/* TFLite's int8 SOFTMAX (its float-table kernel) along the middle axis of [outer][axis][inner]:
 * table[255 - d] = expf(-in_scale * d) for d in [0, 255]; per column, m = the largest code,
 * out = clamp(roundf(table[255 - m + q] / (sum * out_scale)) + out_zp). Not in place. */
void es_softmax_s8(const int8_t *in, int8_t *out, int32_t outer, int32_t axis, int32_t inner, const float *table,
                   float out_scale, int32_t out_zp);
void es_mul_s8(const int8_t *a, const int32_t a_strides[4], int32_t a_zp, const int8_t *b, const int32_t b_strides[4],
               int32_t b_zp, int8_t *out, const int32_t out_shape[4], int32_t out_zp, int32_t mult, int32_t shift,
               int32_t act_min, int32_t act_max);
/* TFLite's MAXIMUM / MINIMUM, broadcast over 4 dims (strides as es_add_f32): each operand is
 * brought to the output's parameters (out_zp + requant(q - zp, mult, shift)), or taken as its
 * codes when its mult is 0; then max / min, clamped to [act_min, act_max]. */
void es_maximum_s8(const int8_t *a, const int32_t a_strides[4], int32_t a_zp, int32_t a_mult, int32_t a_shift,
                   const int8_t *b, const int32_t b_strides[4], int32_t b_zp, int32_t b_mult, int32_t b_shift,
                   int8_t *out, const int32_t out_shape[4], int32_t out_zp, int32_t act_min, int32_t act_max);
void es_minimum_s8(const int8_t *a, const int32_t a_strides[4], int32_t a_zp, int32_t a_mult, int32_t a_shift,
                   const int8_t *b, const int32_t b_strides[4], int32_t b_zp, int32_t b_mult, int32_t b_shift,
                   int8_t *out, const int32_t out_shape[4], int32_t out_zp, int32_t act_min, int32_t act_max);
/* TFLite's PRELU: x = q - in_zp; out = saturate(out_zp + (x >= 0 ? requant(x, identity)
 * : requant(x * (alpha - alpha_zp), alpha))), identity = in_scale / out_scale and
 * alpha = in_scale * alpha_scale / out_scale; alpha broadcast against the input (4-D strides). */
void es_prelu_s8(const int8_t *in, const int32_t in_strides[4], int32_t in_zp, const int8_t *alpha,
                 const int32_t alpha_strides[4], int32_t alpha_zp, int8_t *out, const int32_t out_shape[4],
                 int32_t out_zp, int32_t identity_mult, int32_t identity_shift, int32_t alpha_mult,
                 int32_t alpha_shift);

/* The requantization primitive (TFLite's MultiplyByQuantizedMultiplier). */
static inline int32_t es_saturating_rounding_doubling_high_mul(int32_t a, int32_t b) {
  if (a == b && a == INT32_MIN) return INT32_MAX;
  int64_t ab = (int64_t)a * (int64_t)b;
  int64_t nudge = ab >= 0 ? (1 << 30) : (1 - (1 << 30));
  return (int32_t)((ab + nudge) / ((int64_t)1 << 31));
}

static inline int32_t es_rounding_divide_by_pot(int32_t x, int32_t exponent) {
  int32_t mask = (int32_t)(((int64_t)1 << exponent) - 1);
  int32_t remainder = x & mask;
  int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

static inline int32_t es_requantize(int32_t x, int32_t mult, int32_t shift) {
  int32_t left = shift > 0 ? shift : 0;
  int32_t right = shift > 0 ? 0 : -shift;
  return es_rounding_divide_by_pot(
      es_saturating_rounding_doubling_high_mul((int32_t)((uint32_t)x << left), mult), right);
}

static inline int8_t es_clamp_to_s8(int32_t v, int32_t lo, int32_t hi) {
  return (int8_t)(v < lo ? lo : v > hi ? hi : v);
}

#ifdef __cplusplus
}
#endif

#endif
