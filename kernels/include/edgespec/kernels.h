/* edgespec fp32 kernels: the contract between generated model code and kernels/fp32/.
 *
 * Conventions:
 * - Activations are dense row-major; 4-D activations are NHWC.
 * - Weights arrive re-laid and packed by the build (src/toolchain): the layout each kernel
 *   expects is written beside it.
 * - Every kernel takes a fused clamp (act_min, act_max); pass -INFINITY / INFINITY for none,
 *   0 / INFINITY for relu, 0 / 6 for relu6.
 * - No heap, no globals with state, no threads. `out` never aliases an input unless the
 *   comment says in-place is allowed.
 * - One kernel, one file (kernels/fp32/<name>.c), so the linker map attributes bytes per op.
 */
#ifndef EDGESPEC_KERNELS_H
#define EDGESPEC_KERNELS_H

#include <stdint.h>

#include "edgespec/model.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
  int32_t n, h, w, c;
} es_shape4;

/* conv2d, general case (any kernel, stride, dilation, groups).
 * weights: [OC][KH][KW][IC/groups]; bias: [OC] or NULL.
 * pad_top / pad_left: padding before the first row / column; the output size is given by `os`. */
void es_conv2d_f32(const float *in, es_shape4 is, const float *weights, const float *bias,
                   float *out, es_shape4 os, int32_t kh, int32_t kw, int32_t stride_h,
                   int32_t stride_w, int32_t pad_top, int32_t pad_left, int32_t dilation_h,
                   int32_t dilation_w, int32_t groups, float act_min, float act_max);

/* depthwise conv2d (groups == IC == OC, channel multiplier 1).
 * weights: [KH][KW][C]; bias: [C] or NULL. */
void es_conv2d_depthwise_f32(const float *in, es_shape4 is, const float *weights,
                             const float *bias, float *out, es_shape4 os, int32_t kh, int32_t kw,
                             int32_t stride_h, int32_t stride_w, int32_t pad_top,
                             int32_t pad_left, int32_t dilation_h, int32_t dilation_w,
                             float act_min, float act_max);

/* out[m][n] = clamp(bias[n] + sum_k a[m][k] * w[k][n]).
 * Serves 1x1 stride-1 convolution (m = N*H*W rows of NHWC) and linear (m = rows of x).
 * weights: [K][N] (the transpose of torch's linear weight); bias: [N] or NULL. */
void es_gemm_f32(const float *a, const float *weights, const float *bias, float *out,
                 int32_t m, int32_t k, int32_t n, float act_min, float act_max);

/* batched matmul of two activations: out[b][m][n] = sum_k a[b*a_bstride + m*K + k] * b[...].
 * a_bstride / b_bstride are 0 to broadcast a single matrix over the batch. */
void es_matmul_f32(const float *a, const float *b, float *out, int32_t batch, int32_t m,
                   int32_t k, int32_t n, int32_t a_bstride, int32_t b_bstride);

/* Elementwise binary ops with broadcasting over up to 4 dims. Shapes are right-aligned and
 * padded to 4 dims by the caller; a stride of 0 broadcasts. out is dense in out_shape.
 * In-place (out == a or out == b) is allowed when that operand is not broadcast. */
void es_add_f32(const float *a, const int32_t a_strides[4], const float *b,
                const int32_t b_strides[4], float *out, const int32_t out_shape[4],
                float act_min, float act_max);
void es_sub_f32(const float *a, const int32_t a_strides[4], const float *b,
                const int32_t b_strides[4], float *out, const int32_t out_shape[4],
                float act_min, float act_max);
void es_mul_f32(const float *a, const int32_t a_strides[4], const float *b,
                const int32_t b_strides[4], float *out, const int32_t out_shape[4],
                float act_min, float act_max);
void es_div_f32(const float *a, const int32_t a_strides[4], const float *b,
                const int32_t b_strides[4], float *out, const int32_t out_shape[4],
                float act_min, float act_max);
/* max(a, b) and min(a, b), NaN if either is NaN. */
void es_maximum_f32(const float *a, const int32_t a_strides[4], const float *b,
                    const int32_t b_strides[4], float *out, const int32_t out_shape[4],
                    float act_min, float act_max);
void es_minimum_f32(const float *a, const int32_t a_strides[4], const float *b,
                    const int32_t b_strides[4], float *out, const int32_t out_shape[4],
                    float act_min, float act_max);
/* prelu: a >= 0 ? a : a * b, b the slope. */
void es_prelu_f32(const float *a, const int32_t a_strides[4], const float *b,
                  const int32_t b_strides[4], float *out, const int32_t out_shape[4],
                  float act_min, float act_max);
/* out = a ^ b (powf), both tensors broadcast like es_add_f32. */
void es_pow_tensor_f32(const float *a, const int32_t a_strides[4], const float *b,
                       const int32_t b_strides[4], float *out, const int32_t out_shape[4],
                       float act_min, float act_max);

/* Elementwise with a scalar: out[i] = clamp(a[i] OP s). In-place allowed. */
void es_add_scalar_f32(const float *a, float s, float *out, int32_t count, float act_min, float act_max);
void es_mul_scalar_f32(const float *a, float s, float *out, int32_t count, float act_min, float act_max);

/* Unary activations over `count` elements. In-place allowed. */
void es_clamp_f32(const float *in, float *out, int32_t count, float lo, float hi);
void es_hardswish_f32(const float *in, float *out, int32_t count);
void es_hardsigmoid_f32(const float *in, float *out, int32_t count);
void es_sigmoid_f32(const float *in, float *out, int32_t count);
void es_silu_f32(const float *in, float *out, int32_t count);
void es_tanh_f32(const float *in, float *out, int32_t count);
void es_gelu_f32(const float *in, float *out, int32_t count, int32_t tanh_approximation);
/* out = in >= 0 ? in : in * slope. In-place allowed. */
void es_leaky_relu_f32(const float *in, float *out, int32_t count, float slope);
/* run-time activation quantization of a dynamic-range model, written back as real values (fp32/quantize_dynamic.c) */
void es_quantize_dynamic_f32(const float *x, float *y, int32_t rows, int32_t cols, int32_t scheme);
/* x > 0 ? x : alpha * (exp(x) - 1). In-place allowed. */
void es_elu_f32(const float *in, float *out, int32_t count, float alpha);
/* elu with alpha 1.6732632423543772, times 1.0507009873554805. In-place allowed. */
void es_selu_f32(const float *in, float *out, int32_t count);
/* beta * x > threshold ? x : log(1 + exp(beta * x)) / beta; threshold +inf for none. In-place allowed. */
void es_softplus_f32(const float *in, float *out, int32_t count, float beta, float threshold);
/* x / (1 + |x|). In-place allowed. */
void es_softsign_f32(const float *in, float *out, int32_t count);
/* x * tanh(softplus(x)). In-place allowed. */
void es_mish_f32(const float *in, float *out, int32_t count);

/* Math functions of one input over `count` elements (libm's float functions). In-place allowed. */
void es_exp_f32(const float *in, float *out, int32_t count);
void es_erf_f32(const float *in, float *out, int32_t count);
void es_log_f32(const float *in, float *out, int32_t count);
void es_sqrt_f32(const float *in, float *out, int32_t count);
void es_rsqrt_f32(const float *in, float *out, int32_t count);
void es_abs_f32(const float *in, float *out, int32_t count);
void es_neg_f32(const float *in, float *out, int32_t count);
/* x ^ exponent. */
void es_pow_f32(const float *in, float *out, int32_t count, float exponent);

/* Per-channel affine over the innermost axis: out[r][c] = clamp(in[r][c] * scale[c] + shift[c]).
 * Unfolded batch norm becomes this. In-place allowed. */
void es_scale_shift_f32(const float *in, const float *scale, const float *shift, float *out,
                        int32_t rows, int32_t channels, float act_min, float act_max);

/* Pooling over NHWC. Windows are clipped to the input; pad_* as in conv2d.
 * avg: divisor_override > 0 wins; else count_include_pad counts window cells inside the
 * padded input (never beyond it), else only cells inside the input. */
void es_max_pool2d_f32(const float *in, es_shape4 is, float *out, es_shape4 os, int32_t kh,
                       int32_t kw, int32_t stride_h, int32_t stride_w, int32_t pad_top,
                       int32_t pad_left, int32_t pad_bottom, int32_t pad_right,
                       int32_t dilation_h, int32_t dilation_w, float act_min, float act_max);
void es_avg_pool2d_f32(const float *in, es_shape4 is, float *out, es_shape4 os, int32_t kh,
                       int32_t kw, int32_t stride_h, int32_t stride_w, int32_t pad_top,
                       int32_t pad_left, int32_t pad_bottom, int32_t pad_right,
                       int32_t count_include_pad, int32_t divisor_override, float act_min,
                       float act_max);
/* Adaptive average pool, NHWC, PyTorch's bin edges. */
void es_adaptive_avg_pool2d_f32(const float *in, es_shape4 is, float *out, es_shape4 os);

/* Transposed convolution (PyTorch's ConvTranspose2d, ONNX ConvTranspose, TFLite TRANSPOSE_CONV),
 * NHWC; weights [OC][KH][KW][IC/groups]; bias [OC] or NULL. out[oy][ox] is the full result at
 * (oy + pad_top, ox + pad_left); os gives the size (output_padding included). */
void es_conv_transpose2d_f32(const float *in, es_shape4 is, const float *weights,
                             const float *bias, float *out, es_shape4 os, int32_t kh, int32_t kw,
                             int32_t stride_h, int32_t stride_w, int32_t pad_top,
                             int32_t pad_left, int32_t dilation_h, int32_t dilation_w,
                             int32_t groups, float act_min, float act_max);

/* Resize, NHWC: the source coordinate of output index i along each axis is
 * (i + offset_in) * inv - offset_out (inv_h, inv_w per axis), or (i + offset_in) / inv - offset_out
 * when divide != 0 (inv is then the output/input ratio, as ONNX divides by its scales). Nearest rounds it by
 * nearest_mode (0 round half down, 1 round half up, 2 floor, 3 ceil) and clamps it to the
 * input; bilinear clamps it to [0, size - 1] and blends the two pixels around it. */
void es_resize_nearest_f32(const float *in, es_shape4 is, float *out, es_shape4 os, float inv_h,
                           float inv_w, float offset_in, float offset_out, int32_t nearest_mode,
                           int32_t divide);
/* Reflect (mode 0), edge (1) or symmetric (2) padding of up to 6 dims; pads[2k] before and
 * pads[2k+1] after dimension k; reflect needs pads < size, symmetric pads <= size. */
void es_pad_mirror_f32(const float *in, const int32_t *in_shape, const int32_t *pads, int32_t rank,
                       int32_t mode, float *out);
void es_resize_bilinear_f32(const float *in, es_shape4 is, float *out, es_shape4 os, float inv_h,
                            float inv_w, float offset_in, float offset_out, int32_t divide);

/* Mean over the middle axis of [outer][reduce][inner] (NHWC global pool: outer=N,
 * reduce=H*W, inner=C). */
void es_mean_f32(const float *in, float *out, int32_t outer, int32_t reduce, int32_t inner);

/* Softmax over the middle axis of [outer][axis][inner]. */
void es_softmax_f32(const float *in, float *out, int32_t outer, int32_t axis, int32_t inner);
/* log_softmax over the middle axis of [outer][axis][inner]. In-place allowed. */
void es_log_softmax_f32(const float *in, float *out, int32_t outer, int32_t axis, int32_t inner);
/* Sum, largest and smallest element (NaN wins) over the middle axis of [outer][reduce][inner]. */
void es_sum_f32(const float *in, float *out, int32_t outer, int32_t reduce, int32_t inner);
void es_reduce_max_f32(const float *in, float *out, int32_t outer, int32_t reduce, int32_t inner);
void es_reduce_min_f32(const float *in, float *out, int32_t outer, int32_t reduce, int32_t inner);
/* Index (as a float) of the largest / smallest element along the middle axis of
 * [outer][reduce][inner]; the first of equal ones, or the last when last != 0. */
void es_argmax_f32(const float *in, float *out, int32_t outer, int32_t reduce, int32_t inner, int32_t last);
void es_argmin_f32(const float *in, float *out, int32_t outer, int32_t reduce, int32_t inner, int32_t last);
/* Layer norm of `outer` rows of `inner` elements; gamma/beta [inner] or NULL. In-place allowed. */
void es_layer_norm_f32(const float *in, const float *gamma, const float *beta, float *out, int32_t outer,
                       int32_t inner, float eps);
/* Group norm (instance norm: groups == channels) of [batch][channels][spatial] memory, or
 * [batch][spatial][channels] when channels_last; gamma/beta [channels] or NULL. In-place allowed. */
void es_group_norm_f32(const float *in, const float *gamma, const float *beta, float *out, int32_t batch,
                       int32_t channels, int32_t spatial, int32_t groups, int32_t channels_last, float eps);
/* Walks `shape` (rank <= 8) in row-major order, writing out densely and reading
 * in[offset + sum_d i_d * strides[d]]; strides may be 0 (broadcast) or negative (slice, expand, tile). */
void es_strided_copy_f32(const float *in, float *out, int32_t rank, const int32_t *shape,
                         const int32_t *strides, int32_t offset);
/* out[o][k][i] = in[o][indices[k]][i] over [outer][axis][inner]; indices in [0, axis). */
void es_gather_f32(const float *in, float *out, int32_t outer, int32_t axis, int32_t inner,
                   const int32_t *indices, int32_t count);
/* es_gather_f32 with the indices read at run time from an int32 or int64 tensor (index_bytes 4
 * or 8): each is checked against axis first (negative ones count from the end when
 * allow_negative); one outside fills *fault (naming `tensor`) and the result is 1. */
int es_take_f32(const float *in, float *out, int32_t outer, int32_t axis, int32_t inner,
                const void *indices, int32_t index_bytes, int32_t count, int32_t allow_negative,
                es_input_fault *fault, const char *tensor);
/* out (dense, shape, rank <= 8) = cond != 0 ? x : other, each read through its element strides (0: broadcast). */
void es_where_f32(const float *cond, const float *x, const float *other, float *out, int32_t rank,
                  const int32_t *shape, const int32_t *cond_strides, const int32_t *x_strides,
                  const int32_t *other_strides);

/* Concat along the middle axis of [outer][axis_i][inner]: inputs[i] has axis_sizes[i]. */
void es_concat_f32(const float *const *inputs, const int32_t *axis_sizes, int32_t n_inputs,
                   float *out, int32_t outer, int32_t inner);

/* Split, the inverse of concat: outputs[i] gets axis_sizes[i] slices. */
void es_split_f32(const float *in, float *const *outputs, const int32_t *axis_sizes,
                  int32_t n_outputs, int32_t outer, int32_t inner);

/* Transpose of up to 6 dims: out.shape[k] = in_shape[perm[k]]. */
void es_transpose_f32(const float *in, const int32_t *in_shape, const int32_t *perm, int32_t rank,
                      float *out);

/* Constant pad of up to 6 dims: pads[2k] before and pads[2k+1] after dimension k. */
void es_pad_f32(const float *in, const int32_t *in_shape, const int32_t *pads, int32_t rank,
                float value, float *out);

/* Dense copy (reshape that cannot alias). */
void es_copy_f32(const float *in, float *out, int32_t count);

/* Integer tensors (kernels/integer/): an argmax / argmin index stored in the output's dtype,
 * and add, sub, mul on int32 / int64 tensors with the broadcast of es_add_f32, wrapping. */
void es_cast_f32_i32(const float *in, int32_t *out, int32_t count);
void es_cast_f32_i64(const float *in, int64_t *out, int32_t count);
#define ES_INT_BINARY_DECL(name, T) \
  void name(const T *a, const int32_t a_strides[4], const T *b, const int32_t b_strides[4], T *out, const int32_t out_shape[4]);
ES_INT_BINARY_DECL(es_add_i32, int32_t)
ES_INT_BINARY_DECL(es_sub_i32, int32_t)
ES_INT_BINARY_DECL(es_mul_i32, int32_t)
ES_INT_BINARY_DECL(es_add_i64, int64_t)
ES_INT_BINARY_DECL(es_sub_i64, int64_t)
ES_INT_BINARY_DECL(es_mul_i64, int64_t)
#undef ES_INT_BINARY_DECL

#ifdef __cplusplus
}
#endif

#endif
