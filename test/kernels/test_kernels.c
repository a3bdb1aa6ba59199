/* Checks every fp32 kernel against the naive double references on seeded random data,
 * including padding, strides, dilation, groups, odd and tiny sizes, broadcasting and
 * in-place use. Runs on the host and, linked with the qemu-virt platform, bare metal. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edgespec/kernels.h"
#include "harness.h"
#include "reference.h"
#include "test_windows.h"
#include "test_indices.h"
#include "test_norms.h"

static double *ref_buffer(size_t n) {
  double *r = (double *)malloc((n ? n : 1) * sizeof(double));
  if (!r) {
    printf("FAIL out of memory\n");
    exit(2);
  }
  return r;
}

static size_t count4(es_shape4 s) { return (size_t)s.n * s.h * s.w * s.c; }

/* Output size along one axis, floor or ceil mode (ops.json conv2d / max_pool2d). */
static int out_size(int in, int k, int stride, int pad_a, int pad_b, int dilation, int ceil_mode) {
  const int span = in + pad_a + pad_b - dilation * (k - 1) - 1;
  int o = (ceil_mode ? (span + stride - 1) / stride : span / stride) + 1;
  if (ceil_mode && (o - 1) * stride >= in + pad_a) o--; /* last window must start inside */
  return o;
}

typedef struct {
  const char *name;
  int n, h, w, ic, oc, kh, kw, sh, sw, pt, pl, pb, pr, dh, dw, groups, bias;
  float lo, hi;
} conv_case;

static void test_conv(const conv_case *t) {
  const es_shape4 is = {t->n, t->h, t->w, t->ic};
  const es_shape4 os = {t->n, out_size(t->h, t->kh, t->sh, t->pt, t->pb, t->dh, 0),
                        out_size(t->w, t->kw, t->sw, t->pl, t->pr, t->dw, 0), t->oc};
  float *in = t_random(count4(is), -1, 1);
  float *w = t_random((size_t)t->oc * t->kh * t->kw * (t->ic / t->groups), -1, 1);
  float *bias = t->bias ? t_random((size_t)t->oc, -1, 1) : NULL;
  float *out = t_buffer(count4(os));
  double *ref = ref_buffer(count4(os));
  es_conv2d_f32(in, is, w, bias, out, os, t->kh, t->kw, t->sh, t->sw, t->pt, t->pl, t->dh, t->dw,
                t->groups, t->lo, t->hi);
  ref_conv2d(in, is, w, bias, ref, os, t->kh, t->kw, t->sh, t->sw, t->pt, t->pl, t->dh, t->dw,
             t->groups, t->lo, t->hi);
  char name[96];
  snprintf(name, sizeof name, "conv2d %s", t->name);
  t_check(name, out, ref, count4(os), 1e-5);
  t_free(in), t_free(w), t_free(bias), t_free(out), free(ref);
}

static void test_depthwise(const conv_case *t) {
  const es_shape4 is = {t->n, t->h, t->w, t->ic};
  const es_shape4 os = {t->n, out_size(t->h, t->kh, t->sh, t->pt, t->pb, t->dh, 0),
                        out_size(t->w, t->kw, t->sw, t->pl, t->pr, t->dw, 0), t->ic};
  float *in = t_random(count4(is), -1, 1);
  float *w = t_random((size_t)t->kh * t->kw * t->ic, -1, 1);
  float *bias = t->bias ? t_random((size_t)t->ic, -1, 1) : NULL;
  float *out = t_buffer(count4(os));
  double *ref = ref_buffer(count4(os));
  es_conv2d_depthwise_f32(in, is, w, bias, out, os, t->kh, t->kw, t->sh, t->sw, t->pt, t->pl,
                          t->dh, t->dw, t->lo, t->hi);
  ref_depthwise(in, is, w, bias, ref, os, t->kh, t->kw, t->sh, t->sw, t->pt, t->pl, t->dh, t->dw,
                t->lo, t->hi);
  char name[96];
  snprintf(name, sizeof name, "depthwise %s", t->name);
  t_check(name, out, ref, count4(os), 1e-5);
  /* The general kernel with groups == channels must agree too. */
  float *out2 = t_buffer(count4(os));
  es_conv2d_f32(in, is, w, bias, out2, os, t->kh, t->kw, t->sh, t->sw, t->pt, t->pl, t->dh, t->dw,
                t->ic, t->lo, t->hi);
  /* weights [KH][KW][C] are not [C][KH][KW][1]: rebuild the reference for conv2d's layout */
  float *w_oihw = t_buffer((size_t)t->kh * t->kw * t->ic);
  for (int c = 0; c < t->ic; c++)
    for (int k = 0; k < t->kh * t->kw; k++) w_oihw[(size_t)c * t->kh * t->kw + k] = w[(size_t)k * t->ic + c];
  es_conv2d_f32(in, is, w_oihw, bias, out2, os, t->kh, t->kw, t->sh, t->sw, t->pt, t->pl, t->dh,
                t->dw, t->ic, t->lo, t->hi);
  snprintf(name, sizeof name, "conv2d groups=C %s", t->name);
  t_check(name, out2, ref, count4(os), 1e-5);
  t_free(in), t_free(w), t_free(bias), t_free(out), t_free(out2), t_free(w_oihw), free(ref);
}

static void test_gemm(const char *label, int m, int k, int n, int with_bias, float lo, float hi) {
  float *a = t_random((size_t)m * k, -1, 1), *w = t_random((size_t)k * n, -1, 1);
  float *bias = with_bias ? t_random((size_t)n, -1, 1) : NULL;
  float *out = t_buffer((size_t)m * n);
  double *ref = ref_buffer((size_t)m * n);
  es_gemm_f32(a, w, bias, out, m, k, n, lo, hi);
  ref_gemm(a, w, bias, ref, m, k, n, lo, hi);
  char name[96];
  snprintf(name, sizeof name, "gemm %s m=%d k=%d n=%d", label, m, k, n);
  t_check(name, out, ref, (size_t)m * n, 1e-5);
  t_free(a), t_free(w), t_free(bias), t_free(out), free(ref);
}

static void test_matmul(int batch, int m, int k, int n, int broadcast_a) {
  const int a_bs = broadcast_a ? 0 : m * k, b_bs = k * n;
  float *a = t_random((size_t)(broadcast_a ? 1 : batch) * m * k, -1, 1);
  float *b = t_random((size_t)batch * k * n, -1, 1);
  float *out = t_buffer((size_t)batch * m * n);
  double *ref = ref_buffer((size_t)batch * m * n);
  es_matmul_f32(a, b, out, batch, m, k, n, a_bs, b_bs);
  for (int i = 0; i < batch; i++)
    ref_gemm(a + (size_t)i * a_bs, b + (size_t)i * b_bs, NULL, ref + (size_t)i * m * n, m, k, n,
             -INFINITY, INFINITY);
  char name[96];
  snprintf(name, sizeof name, "matmul batch=%d m=%d k=%d n=%d%s", batch, m, k, n,
           broadcast_a ? " broadcast a" : "");
  t_check(name, out, ref, (size_t)batch * m * n, 1e-5);
  t_free(a), t_free(b), t_free(out), free(ref);
}

typedef void (*binary_fn)(const float *, const int32_t[4], const float *, const int32_t[4], float *,
                          const int32_t[4], float, float);

/* Strides of a dense tensor of `shape` broadcast to `out` (0 where shape[k] == 1 < out[k]). */
static void broadcast_strides(const int32_t shape[4], const int32_t out[4], int32_t strides[4]) {
  int32_t s = 1;
  for (int k = 3; k >= 0; k--) {
    strides[k] = (shape[k] == 1 && out[k] != 1) ? 0 : s;
    s *= shape[k];
  }
}

static void test_binary(char op, binary_fn fn, const char *label, const int32_t a_shape[4],
                        const int32_t b_shape[4], int in_place, float lo, float hi) {
  int32_t out_shape[4], as[4], bs[4];
  size_t na = 1, nb = 1, no = 1;
  for (int k = 0; k < 4; k++) {
    out_shape[k] = a_shape[k] > b_shape[k] ? a_shape[k] : b_shape[k];
    na *= (size_t)a_shape[k], nb *= (size_t)b_shape[k], no *= (size_t)out_shape[k];
  }
  broadcast_strides(a_shape, out_shape, as);
  broadcast_strides(b_shape, out_shape, bs);
  float *a = t_random(na, -2, 2), *b = t_random(nb, -2, 2);
  if (op == '/')
    for (size_t i = 0; i < nb; i++) b[i] = b[i] < 0 ? b[i] - 0.5f : b[i] + 0.5f;
  double *ref = ref_buffer(no);
  ref_binary(op, a, as, b, bs, ref, out_shape, lo, hi);
  float *out = in_place ? a : t_buffer(no);
  fn(a, as, b, bs, out, out_shape, lo, hi);
  char name[128];
  snprintf(name, sizeof name, "binary %c %s [%d,%d,%d,%d]%s", op, label, out_shape[0], out_shape[1],
           out_shape[2], out_shape[3], in_place ? " in-place" : "");
  t_check(name, out, ref, no, 1e-6);
  if (!in_place) t_free(out);
  t_free(a), t_free(b), free(ref);
}

static void test_binaries(void) {
  static const struct {
    const char *label;
    int32_t a[4], b[4];
  } shapes[] = {
      {"dense", {2, 5, 7, 9}, {2, 5, 7, 9}},
      {"per-channel", {1, 6, 5, 19}, {1, 1, 1, 19}},
      {"scalar", {1, 3, 4, 5}, {1, 1, 1, 1}},
      {"per-pixel", {2, 4, 3, 8}, {2, 4, 3, 1}},
      {"outer product", {1, 1, 7, 1}, {1, 1, 1, 6}},
      {"both broadcast", {3, 1, 5, 1}, {1, 4, 1, 2}},
      {"scalar a", {1, 1, 1, 1}, {2, 3, 1, 33}},
  };
  static const struct {
    char op;
    binary_fn fn;
  } ops[] = {{'+', es_add_f32}, {'-', es_sub_f32}, {'*', es_mul_f32}, {'/', es_div_f32},
             {'M', es_maximum_f32}, {'m', es_minimum_f32}, {'p', es_prelu_f32}};
  for (size_t o = 0; o < sizeof ops / sizeof ops[0]; o++)
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
      test_binary(ops[o].op, ops[o].fn, shapes[s].label, shapes[s].a, shapes[s].b, 0, -INFINITY, INFINITY);
  test_binary('+', es_add_f32, "per-channel relu", shapes[1].a, shapes[1].b, 1, 0.0f, INFINITY);
  test_binary('*', es_mul_f32, "dense relu6", shapes[0].a, shapes[0].b, 1, 0.0f, 6.0f);
  test_binary('M', es_maximum_f32, "per-channel in-place relu6", shapes[1].a, shapes[1].b, 1, 0.0f, 6.0f);
  test_binary('p', es_prelu_f32, "per-channel in-place", shapes[1].a, shapes[1].b, 1, -INFINITY, INFINITY);
  /* NaN in either operand of maximum / minimum gives NaN, as torch.maximum and torch.minimum */
  const int32_t one[4] = {1, 1, 1, 4}, dense[4] = {0, 0, 0, 1};
  const float a[4] = {NAN, 1.0f, -2.0f, NAN}, b[4] = {1.0f, NAN, -3.0f, NAN};
  float mx[4], mn[4];
  es_maximum_f32(a, dense, b, dense, mx, one, -INFINITY, INFINITY);
  es_minimum_f32(a, dense, b, dense, mn, one, -INFINITY, INFINITY);
  t_expect("maximum and minimum propagate NaN from either side",
           isnan(mx[0]) && isnan(mx[1]) && mx[2] == -2.0f && isnan(mx[3]) && isnan(mn[0]) && isnan(mn[1]) &&
               mn[2] == -3.0f && isnan(mn[3]),
           "NaN lost");
}

typedef enum { U_CLAMP, U_HARDSWISH, U_HARDSIGMOID, U_SIGMOID, U_SILU, U_TANH, U_GELU, U_GELU_TANH,
               U_ADD_SCALAR, U_MUL_SCALAR, U_LEAKY_RELU, U_ELU, U_SELU, U_SOFTPLUS, U_SOFTPLUS_BETA,
               U_SOFTSIGN, U_MISH, U_EXP, U_LOG, U_SQRT, U_RSQRT, U_ABS, U_NEG, U_POW_CUBE, U_POW_SQUARE,
               U_POW_HALF, U_ERF } unary_kind;

static double ref_softplus(double x, double beta, double threshold) {
  return beta * x > threshold ? x : log1p(exp(beta * x)) / beta;
}

static double unary_ref(unary_kind k, double x) {
  switch (k) {
    case U_CLAMP: return ref_clamp(x, -0.5, 0.75);
    case U_HARDSWISH: return x * ref_clamp(x + 3, 0, 6) / 6;
    case U_HARDSIGMOID: return ref_clamp(x + 3, 0, 6) / 6;
    case U_SIGMOID: return 1 / (1 + exp(-x));
    case U_SILU: return x / (1 + exp(-x));
    case U_TANH: return tanh(x);
    case U_GELU: return 0.5 * x * (1 + erf(x / sqrt(2.0)));
    case U_GELU_TANH: return 0.5 * x * (1 + tanh(sqrt(2 / M_PI) * (x + 0.044715 * x * x * x)));
    case U_ADD_SCALAR: return ref_clamp(x + 1.25, 0, 6);
    case U_MUL_SCALAR: return ref_clamp(x * -0.75, -INFINITY, INFINITY);
    case U_LEAKY_RELU: return x >= 0 ? x : x * (double)0.2f;
    case U_ELU: return x > 0 ? x : (double)0.7f * expm1(x);
    case U_SELU: return 1.0507009873554805 * (x > 0 ? x : 1.6732632423543772 * expm1(x));
    case U_SOFTPLUS: return ref_softplus(x, 1, 20);
    case U_SOFTPLUS_BETA: return ref_softplus(x, 2, INFINITY);
    case U_SOFTSIGN: return x / (1 + fabs(x));
    case U_MISH: return x * tanh(ref_softplus(x, 1, INFINITY));
    case U_EXP: return exp(x) > FLT_MAX ? INFINITY : exp(x); /* beyond float: inf, as expf */
    case U_LOG: return log(x);
    case U_SQRT: return sqrt(x);
    case U_RSQRT: return 1 / sqrt(x);
    case U_ABS: return fabs(x);
    case U_NEG: return -x;
    case U_POW_CUBE: return x * x * x;
    case U_POW_SQUARE: return x * x;
    case U_POW_HALF: return pow(x, 0.5);
    case U_ERF: return erf(x);
  }
  return 0;
}

static void unary_run(unary_kind k, const float *in, float *out, int32_t n) {
  switch (k) {
    case U_CLAMP: es_clamp_f32(in, out, n, -0.5f, 0.75f); break;
    case U_HARDSWISH: es_hardswish_f32(in, out, n); break;
    case U_HARDSIGMOID: es_hardsigmoid_f32(in, out, n); break;
    case U_SIGMOID: es_sigmoid_f32(in, out, n); break;
    case U_SILU: es_silu_f32(in, out, n); break;
    case U_TANH: es_tanh_f32(in, out, n); break;
    case U_GELU: es_gelu_f32(in, out, n, 0); break;
    case U_GELU_TANH: es_gelu_f32(in, out, n, 1); break;
    case U_ADD_SCALAR: es_add_scalar_f32(in, 1.25f, out, n, 0.0f, 6.0f); break;
    case U_MUL_SCALAR: es_mul_scalar_f32(in, -0.75f, out, n, -INFINITY, INFINITY); break;
    case U_LEAKY_RELU: es_leaky_relu_f32(in, out, n, 0.2f); break;
    case U_ELU: es_elu_f32(in, out, n, 0.7f); break;
    case U_SELU: es_selu_f32(in, out, n); break;
    case U_SOFTPLUS: es_softplus_f32(in, out, n, 1.0f, 20.0f); break;
    case U_SOFTPLUS_BETA: es_softplus_f32(in, out, n, 2.0f, INFINITY); break;
    case U_SOFTSIGN: es_softsign_f32(in, out, n); break;
    case U_MISH: es_mish_f32(in, out, n); break;
    case U_EXP: es_exp_f32(in, out, n); break;
    case U_LOG: es_log_f32(in, out, n); break;
    case U_SQRT: es_sqrt_f32(in, out, n); break;
    case U_RSQRT: es_rsqrt_f32(in, out, n); break;
    case U_ABS: es_abs_f32(in, out, n); break;
    case U_NEG: es_neg_f32(in, out, n); break;
    case U_POW_CUBE: es_pow_f32(in, out, n, 3.0f); break;
    case U_POW_SQUARE: es_pow_f32(in, out, n, 2.0f); break;
    case U_POW_HALF: es_pow_f32(in, out, n, 0.5f); break;
    case U_ERF: es_erf_f32(in, out, n); break;
  }
}

static void test_unaries(void) {
  static const char *names[] = {"clamp", "hardswish", "hardsigmoid", "sigmoid", "silu", "tanh",
                                "gelu", "gelu tanh", "add_scalar relu6", "mul_scalar", "leaky_relu 0.2",
                                "elu 0.7", "selu", "softplus", "softplus beta 2", "softsign", "mish", "exp",
                                "log", "sqrt", "rsqrt", "abs", "neg", "pow 3", "pow 2", "pow 0.5", "erf"};
  const int32_t n = 1037;
  for (int k = 0; k <= U_ERF; k++) {
    float *in = t_random((size_t)n, -8, 8);
    in[0] = 0.0f, in[1] = -3.0f, in[2] = 3.0f, in[3] = 100.0f, in[4] = -100.0f, in[5] = 1e-7f;
    in[6] = NAN;
    double *ref = ref_buffer((size_t)n);
    for (int32_t i = 0; i < n; i++) ref[i] = unary_ref((unary_kind)k, in[i]);
    float *out = t_buffer((size_t)n);
    unary_run((unary_kind)k, in, out, n);
    char name[64];
    snprintf(name, sizeof name, "unary %s", names[k]);
    /* float libm functions are within a few ulp of the double ones */
    t_check_elementwise(name, out, ref, (size_t)n, 6e-7, 1e-7);
    unary_run((unary_kind)k, in, in, n);
    snprintf(name, sizeof name, "unary %s in-place", names[k]);
    t_check_elementwise(name, in, ref, (size_t)n, 6e-7, 1e-7);
    t_free(in), t_free(out), free(ref);
  }
}

/* sigmoid and silu compute exp with their own polynomial (kernels/fp32/exp_approx.h): a
 * dense sweep over the whole range where exp(-x) is finite and beyond, held to 3e-7 of
 * each value (atol only for the results below 1e-36, where the exp input is clamped), and
 * the infinities. n is odd so the vector tails are covered. */
static void test_logistic_sweep(void) {
  const int32_t n = 36001;
  float *in = t_buffer((size_t)n), *out = t_buffer((size_t)n);
  double *ref = ref_buffer((size_t)n);
  for (int k = 0; k < 2; k++) {
    for (int32_t i = 0; i < n; i++) in[i] = -90.0f + 180.0f * (float)i / (float)(n - 1) + t_uniform(0, 0.005f);
    const unary_kind kind = k ? U_SILU : U_SIGMOID;
    for (int32_t i = 0; i < n; i++) ref[i] = unary_ref(kind, in[i]);
    unary_run(kind, in, out, n);
    t_check_elementwise(k ? "silu sweep [-90, 90]" : "sigmoid sweep [-90, 90]", out, ref, (size_t)n, 3e-7, 1e-36);
  }
  const float inf[2] = {INFINITY, -INFINITY};
  float got[2];
  es_sigmoid_f32(inf, got, 2);
  t_expect("sigmoid(+inf) = 1, sigmoid(-inf) = 0", got[0] == 1.0f && got[1] == 0.0f, "wrong limits");
  es_silu_f32(inf, got, 2);
  t_expect("silu(+inf) = +inf, silu(-inf) = NaN (-inf / inf)", got[0] == INFINITY && isnan(got[1]), "wrong limits");
  t_free(in), t_free(out), free(ref);
}

/* Every kind of bound (none, zero, positive, negative, general) on special values: the
 * NEON path clamps relu and relu6 on the bit patterns, which must keep NaN and signs right. */
static void test_clamp_bounds(void) {
  static const float bounds[][2] = {{0, INFINITY}, {0, 6}, {-INFINITY, 6}, {-1, 1}, {1, INFINITY},
                                    {-INFINITY, -2}, {-INFINITY, INFINITY}, {-3, 0}};
  const int32_t n = 64;
  float *in = t_random((size_t)n, -10, 10);
  const float specials[] = {-INFINITY, INFINITY, -0.0f, 0.0f, NAN, -NAN, 6.0f, 6.0000005f,
                            5.9999995f, -1e-45f, 1e-45f, -1.0f, 1.0f, -2.0f, 3.4e38f, -3.4e38f};
  for (size_t i = 0; i < sizeof specials / sizeof specials[0]; i++) in[i] = specials[i];
  for (size_t b = 0; b < sizeof bounds / sizeof bounds[0]; b++) {
    double *ref = ref_buffer((size_t)n);
    float *out = t_buffer((size_t)n);
    for (int32_t i = 0; i < n; i++) ref[i] = ref_clamp(in[i], bounds[b][0], bounds[b][1]);
    es_clamp_f32(in, out, n, bounds[b][0], bounds[b][1]);
    char name[64];
    snprintf(name, sizeof name, "clamp bounds [%g, %g] special values", (double)bounds[b][0], (double)bounds[b][1]);
    t_check(name, out, ref, (size_t)n, 0.0);
    t_free(out), free(ref);
  }
  t_free(in);
}

static void test_scale_shift(int rows, int channels) {
  float *in = t_random((size_t)rows * channels, -3, 3), *scale = t_random((size_t)channels, -2, 2);
  float *shift = t_random((size_t)channels, -1, 1), *out = t_buffer((size_t)rows * channels);
  double *ref = ref_buffer((size_t)rows * channels);
  for (int r = 0; r < rows; r++)
    for (int c = 0; c < channels; c++)
      ref[(size_t)r * channels + c] = ref_clamp((double)in[(size_t)r * channels + c] * scale[c] + shift[c], 0, 6);
  es_scale_shift_f32(in, scale, shift, out, rows, channels, 0.0f, 6.0f);
  t_check("scale_shift relu6", out, ref, (size_t)rows * channels, 1e-6);
  es_scale_shift_f32(in, scale, shift, in, rows, channels, 0.0f, 6.0f);
  t_check("scale_shift in-place", in, ref, (size_t)rows * channels, 1e-6);
  t_free(in), t_free(scale), t_free(shift), t_free(out), free(ref);
}

typedef struct {
  const char *name;
  int n, h, w, c, kh, kw, sh, sw, pt, pl, pb, pr, dh, dw, ceil_mode, count_include_pad, divisor;
} pool_case;

static void test_max_pool(const pool_case *t) {
  const es_shape4 is = {t->n, t->h, t->w, t->c};
  const es_shape4 os = {t->n, out_size(t->h, t->kh, t->sh, t->pt, t->pb, t->dh, t->ceil_mode),
                        out_size(t->w, t->kw, t->sw, t->pl, t->pr, t->dw, t->ceil_mode), t->c};
  float *in = t_random(count4(is), -1, 1);
  in[3] = NAN; /* NaN propagates through max */
  float *out = t_buffer(count4(os));
  double *ref = ref_buffer(count4(os));
  es_max_pool2d_f32(in, is, out, os, t->kh, t->kw, t->sh, t->sw, t->pt, t->pl, t->pb, t->pr, t->dh,
                    t->dw, -INFINITY, INFINITY);
  ref_max_pool(in, is, ref, os, t->kh, t->kw, t->sh, t->sw, t->pt, t->pl, t->dh, t->dw);
  char name[96];
  snprintf(name, sizeof name, "max_pool2d %s", t->name);
  t_check(name, out, ref, count4(os), 0.0);
  t_free(in), t_free(out), free(ref);
}

/* With a fused clamp [lo, hi] (applied to the reference after pooling). */
static void test_avg_pool(const pool_case *t, float lo, float hi) {
  const es_shape4 is = {t->n, t->h, t->w, t->c};
  const es_shape4 os = {t->n, out_size(t->h, t->kh, t->sh, t->pt, t->pb, 1, t->ceil_mode),
                        out_size(t->w, t->kw, t->sw, t->pl, t->pr, 1, t->ceil_mode), t->c};
  float *in = t_random(count4(is), -1, 1);
  float *out = t_buffer(count4(os));
  double *ref = ref_buffer(count4(os));
  es_avg_pool2d_f32(in, is, out, os, t->kh, t->kw, t->sh, t->sw, t->pt, t->pl, t->pb, t->pr,
                    t->count_include_pad, t->divisor, lo, hi);
  ref_avg_pool(in, is, ref, os, t->kh, t->kw, t->sh, t->sw, t->pt, t->pl, t->pb, t->pr,
               t->count_include_pad, t->divisor);
  for (size_t i = 0; i < count4(os); i++) ref[i] = ref[i] < lo ? lo : ref[i] > hi ? hi : ref[i];
  char name[96];
  snprintf(name, sizeof name, "avg_pool2d %s%s", t->name, lo > -INFINITY || hi < INFINITY ? ", clamped" : "");
  t_check(name, out, ref, count4(os), 1e-6);
  t_free(in), t_free(out), free(ref);
}

static void test_adaptive(int h, int w, int oh, int ow, int c) {
  const es_shape4 is = {2, h, w, c}, os = {2, oh, ow, c};
  float *in = t_random(count4(is), -1, 1), *out = t_buffer(count4(os));
  double *ref = ref_buffer(count4(os));
  es_adaptive_avg_pool2d_f32(in, is, out, os);
  ref_adaptive_avg_pool(in, is, ref, os);
  char name[96];
  snprintf(name, sizeof name, "adaptive_avg_pool2d %dx%d->%dx%d c=%d", h, w, oh, ow, c);
  t_check(name, out, ref, count4(os), 1e-6);
  t_free(in), t_free(out), free(ref);
}

static void test_mean(int outer, int reduce, int inner) {
  float *in = t_random((size_t)outer * reduce * inner, 0, 2), *out = t_buffer((size_t)outer * inner);
  double *ref = ref_buffer((size_t)outer * inner);
  for (int o = 0; o < outer; o++)
    for (int i = 0; i < inner; i++) {
      double s = 0;
      for (int r = 0; r < reduce; r++) s += in[((size_t)o * reduce + r) * inner + i];
      ref[(size_t)o * inner + i] = s / reduce;
    }
  es_mean_f32(in, out, outer, reduce, inner);
  char name[96];
  snprintf(name, sizeof name, "mean outer=%d reduce=%d inner=%d", outer, reduce, inner);
  t_check(name, out, ref, (size_t)outer * inner, 2e-6);
  t_free(in), t_free(out), free(ref);
}

/* sum, reduce_max/min, argmax/argmin over [outer][reduce][inner] against double references;
 * ties (values rounded to a few levels) check first/last index selection. */
static void test_reductions(int outer, int reduce, int inner, int ties) {
  const size_t n = (size_t)outer * reduce * inner, m = (size_t)outer * inner;
  float *in = t_random(n, -3, 3), *out = t_buffer(m);
  if (ties) for (size_t k = 0; k < n; k++) in[k] = (float)(int)(in[k]);
  double *sum = ref_buffer(m), *mx = ref_buffer(m), *mn = ref_buffer(m);
  double *amax = ref_buffer(m), *amin = ref_buffer(m), *amax_last = ref_buffer(m), *amin_last = ref_buffer(m);
  for (int o = 0; o < outer; o++)
    for (int i = 0; i < inner; i++) {
      const size_t at = (size_t)o * inner + i;
      double s = 0, hi = -INFINITY, lo = INFINITY;
      int ihi = 0, ilo = 0, ihi_last = 0, ilo_last = 0;
      for (int r = 0; r < reduce; r++) {
        const double v = in[((size_t)o * reduce + r) * inner + i];
        s += v;
        if (v > hi) hi = v, ihi = r;
        if (v < lo) lo = v, ilo = r;
      }
      for (int r = 0; r < reduce; r++) {
        const double v = in[((size_t)o * reduce + r) * inner + i];
        if (v == hi) ihi_last = r;
        if (v == lo) ilo_last = r;
      }
      sum[at] = s, mx[at] = hi, mn[at] = lo, amax[at] = ihi, amin[at] = ilo, amax_last[at] = ihi_last, amin_last[at] = ilo_last;
    }
  char name[96];
#define CHECK(call, ref, what, tol) \
  call; snprintf(name, sizeof name, "%s outer=%d reduce=%d inner=%d%s", what, outer, reduce, inner, ties ? " ties" : ""); \
  t_check(name, out, ref, m, tol);
  CHECK(es_sum_f32(in, out, outer, reduce, inner), sum, "sum", 5e-6)
  CHECK(es_reduce_max_f32(in, out, outer, reduce, inner), mx, "reduce_max", 0)
  CHECK(es_reduce_min_f32(in, out, outer, reduce, inner), mn, "reduce_min", 0)
  CHECK(es_argmax_f32(in, out, outer, reduce, inner, 0), amax, "argmax", 0)
  CHECK(es_argmin_f32(in, out, outer, reduce, inner, 0), amin, "argmin", 0)
  CHECK(es_argmax_f32(in, out, outer, reduce, inner, 1), amax_last, "argmax last", 0)
  CHECK(es_argmin_f32(in, out, outer, reduce, inner, 1), amin_last, "argmin last", 0)
#undef CHECK
  t_free(in), t_free(out), free(sum), free(mx), free(mn), free(amax), free(amin), free(amax_last), free(amin_last);
}

/* A NaN anywhere in a column makes its max and min NaN. */
static void test_reduce_nan(void) {
  float *in = t_buffer(6), *out = t_buffer(2);
  const float values[6] = {1.0f, 2.0f, NAN, 5.0f, 0.5f, 7.0f} /* [1][3][2] */;
  memcpy(in, values, sizeof values);
  const double want_max[2] = {NAN, 7.0}, want_min[2] = {NAN, 2.0};
  es_reduce_max_f32(in, out, 1, 3, 2);
  t_check_elementwise("reduce_max NaN wins", out, want_max, 2, 0, 0);
  es_reduce_min_f32(in, out, 1, 3, 2);
  t_check_elementwise("reduce_min NaN wins", out, want_min, 2, 0, 0);
  t_free(in), t_free(out);
}

static void test_softmax(int outer, int axis, int inner, float range, int in_place) {
  const size_t n = (size_t)outer * axis * inner;
  float *in = t_random(n, -range, range), *out = in_place ? in : t_buffer(n);
  double *ref = ref_buffer(n);
  ref_softmax(in, ref, outer, axis, inner);
  es_softmax_f32(in, out, outer, axis, inner);
  char name[96];
  snprintf(name, sizeof name, "softmax outer=%d axis=%d inner=%d range=%g%s", outer, axis, inner,
           (double)range, in_place ? " in-place" : "");
  t_check(name, out, ref, n, 2e-6);
  if (!in_place) t_free(out);
  t_free(in), free(ref);
}

static void test_log_softmax(int outer, int axis, int inner, float range, int in_place) {
  const size_t n = (size_t)outer * axis * inner;
  float *in = t_random(n, -range, range), *out = in_place ? in : t_buffer(n);
  double *ref = ref_buffer(n);
  for (int o = 0; o < outer; o++)
    for (int i = 0; i < inner; i++) {
      const float *col = in + (size_t)o * axis * inner + i;
      double max = -INFINITY, sum = 0;
      for (int k = 0; k < axis; k++) max = col[(size_t)k * inner] > max ? col[(size_t)k * inner] : max;
      for (int k = 0; k < axis; k++) sum += exp(col[(size_t)k * inner] - max);
      for (int k = 0; k < axis; k++) ref[(size_t)o * axis * inner + (size_t)k * inner + i] = col[(size_t)k * inner] - max - log(sum);
    }
  es_log_softmax_f32(in, out, outer, axis, inner);
  char name[96];
  snprintf(name, sizeof name, "log_softmax outer=%d axis=%d inner=%d range=%g%s", outer, axis, inner,
           (double)range, in_place ? " in-place" : "");
  t_check(name, out, ref, n, 2e-6);
  if (!in_place) t_free(out);
  t_free(in), free(ref);
}

static void test_concat_split(int outer, int inner) {
  const int32_t sizes[3] = {3, 1, 6};
  const int total = 10;
  float *parts[3], *back[3];
  for (int i = 0; i < 3; i++) parts[i] = t_random((size_t)outer * sizes[i] * inner, -1, 1);
  float *out = t_buffer((size_t)outer * total * inner);
  double *ref = ref_buffer((size_t)outer * total * inner);
  for (int o = 0; o < outer; o++) {
    int off = 0;
    for (int i = 0; i < 3; i++)
      for (int j = 0; j < sizes[i] * inner; j++, off++)
        ref[(size_t)o * total * inner + off] = parts[i][(size_t)o * sizes[i] * inner + j];
  }
  es_concat_f32((const float *const *)parts, sizes, 3, out, outer, inner);
  char name[64];
  snprintf(name, sizeof name, "concat outer=%d inner=%d", outer, inner);
  t_check(name, out, ref, (size_t)outer * total * inner, 0.0);
  for (int i = 0; i < 3; i++) back[i] = t_buffer((size_t)outer * sizes[i] * inner);
  es_split_f32(out, back, sizes, 3, outer, inner);
  for (int i = 0; i < 3; i++) {
    double *r = ref_buffer((size_t)outer * sizes[i] * inner);
    for (size_t j = 0; j < (size_t)outer * sizes[i] * inner; j++) r[j] = parts[i][j];
    snprintf(name, sizeof name, "split part %d outer=%d inner=%d", i, outer, inner);
    t_check(name, back[i], r, (size_t)outer * sizes[i] * inner, 0.0);
    free(r);
    t_free(back[i]), t_free(parts[i]);
  }
  t_free(out), free(ref);
}

static void test_transpose(const char *label, int rank, const int32_t *shape, const int32_t *perm) {
  size_t n = 1;
  for (int k = 0; k < rank; k++) n *= (size_t)shape[k];
  float *in = t_random(n, -1, 1), *out = t_buffer(n);
  double *ref = ref_buffer(n);
  ref_transpose(in, shape, perm, rank, ref);
  es_transpose_f32(in, shape, perm, rank, out);
  char name[64];
  snprintf(name, sizeof name, "transpose %s", label);
  t_check(name, out, ref, n, 0.0);
  t_free(in), t_free(out), free(ref);
}

static void test_pad(const char *label, int rank, const int32_t *shape, const int32_t *pads) {
  size_t n = 1, no = 1;
  for (int k = 0; k < rank; k++) {
    n *= (size_t)shape[k];
    no *= (size_t)(shape[k] + pads[2 * k] + pads[2 * k + 1]);
  }
  float *in = t_random(n, -1, 1), *out = t_buffer(no);
  double *ref = ref_buffer(no);
  ref_pad(in, shape, pads, rank, -0.5, ref);
  es_pad_f32(in, shape, pads, rank, -0.5f, out);
  char name[64];
  snprintf(name, sizeof name, "pad %s", label);
  t_check(name, out, ref, no, 0.0);
  t_free(in), t_free(out), free(ref);
}

static void test_copy(void) {
  float *in = t_random(1001, -1, 1), *out = t_buffer(1001);
  double *ref = ref_buffer(1001);
  for (int i = 0; i < 1001; i++) ref[i] = in[i];
  es_copy_f32(in, out, 1001);
  t_check("copy", out, ref, 1001, 0.0);
  t_free(in), t_free(out), free(ref);
}

/* quantize_dynamic against a double reference of each scheme (random rows: no value on a rounding tie);
 * the scale is the float32 the frameworks compute, the rest in double. Row 2 is all zeros, row 3 positive. */
static double qd_round_away(double v) { return v >= 0 ? floor(v + 0.5) : -floor(-v + 0.5); }

static void qd_reference(const float *x, double *y, int cols, int scheme) {
  double mn = x[0], mx = x[0];
  for (int i = 1; i < cols; i++) mn = x[i] < mn ? x[i] : mn, mx = x[i] > mx ? x[i] : mx;
  if (scheme == 1) {
    double range = fabs(mn) > fabs(mx) ? fabs(mn) : fabs(mx);
    for (int i = 0; i < cols; i++) {
      double q = range == 0 ? 0 : qd_round_away(x[i] * (127.0 / range));
      y[i] = range == 0 ? 0 : (q > 127 ? 127 : q < -127 ? -127 : q) * (double)(float)(range / 127.0);
    }
    return;
  }
  mn = mn < 0 ? mn : 0, mx = mx > 0 ? mx : 0;
  if (mx == mn) {
    for (int i = 0; i < cols; i++) y[i] = 0;
    return;
  }
  double scale = scheme == 0 ? (double)((float)(mx - mn) / 255.0f) : (double)(float)((mx - mn) / 255.0);
  double lo = scheme == 0 ? 0 : -128, hi = lo + 255;
  double zero = scheme == 0 ? nearbyint(fmin(fmax(-mn / scale, 0), 255)) : qd_round_away(-128 - mn / scale);
  for (int i = 0; i < cols; i++) {
    double q = (scheme == 0 ? nearbyint(x[i] / scale) : qd_round_away(x[i] / scale)) + zero;
    y[i] = ((q < lo ? lo : q > hi ? hi : q) - zero) * scale;
  }
}

static void test_quantize_dynamic(void) {
  static const char *names[] = {"quantize_dynamic uint8 asymmetric (ONNX)", "quantize_dynamic int8 symmetric (TFLite)",
                                "quantize_dynamic int8 asymmetric (TFLite)"};
  const int rows = 4, cols = 203;
  for (int scheme = 0; scheme < 3; scheme++) {
    float *x = t_random(rows * cols, -3, 5), *y = t_buffer(rows * cols);
    double *ref = ref_buffer(rows * cols);
    for (int i = 0; i < cols; i++) x[2 * cols + i] = 0.0f, x[3 * cols + i] = fabsf(x[3 * cols + i]) + 0.25f;
    for (int r = 0; r < rows; r++) qd_reference(x + r * cols, ref + r * cols, cols, scheme);
    es_quantize_dynamic_f32(x, y, rows, cols, scheme);
    t_check(names[scheme], y, ref, rows * cols, 1e-6);
    es_quantize_dynamic_f32(x, x, rows, cols, scheme); /* in place */
    t_check(names[scheme], x, ref, rows * cols, 1e-6);
    t_free(x), t_free(y), free(ref);
  }
}

int main(void) {
  t_seed(20240601);
  const float inf = INFINITY;

  /*                name                         n  h   w   ic  oc kh kw sh sw pt pl pb pr dh dw g bias lo    hi */
  static const conv_case convs[] = {
      {"first conv 3x3 s2 3->32 relu6",          1, 33, 32, 3,  32, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 0, 6},
      {"3x3 s1 p1 16->20",                       1, 9,  11, 16, 20, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, -INFINITY, INFINITY},
      {"7x7 s2 p3 stem, batch 2",                2, 19, 17, 3,  8,  7, 7, 2, 2, 3, 3, 3, 3, 1, 1, 1, 1, 0, INFINITY},
      {"1x1 no bias, odd oc",                    1, 5,  6,  13, 7,  1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 0, -INFINITY, INFINITY},
      {"5x5 dilation 2",                         1, 12, 13, 5,  6,  5, 5, 1, 1, 4, 4, 4, 4, 2, 2, 1, 1, -INFINITY, INFINITY},
      {"groups 2",                               1, 8,  7,  6,  4,  3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 2, 1, -INFINITY, INFINITY},
      {"groups 3, 9 oc per group, stride 2x1",   1, 10, 9,  12, 27, 3, 3, 2, 1, 1, 1, 1, 1, 1, 1, 3, 1, -1, 1},
      {"asymmetric pad, kernel over input",      1, 4,  3,  8,  9,  5, 4, 1, 2, 2, 0, 3, 1, 1, 1, 1, 1, -INFINITY, INFINITY},
      {"dilation 1x3 stride 3",                  1, 11, 14, 4,  5,  2, 3, 3, 3, 0, 2, 1, 2, 1, 3, 1, 1, -INFINITY, INFINITY},
      {"12x12 groups 2 (plain path)",            1, 13, 13, 4,  4,  12, 12, 1, 1, 1, 1, 1, 1, 1, 1, 2, 1, -INFINITY, INFINITY},
      {"1x1 input, 3x3 pad 1",                   1, 1,  1,  64, 12, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, -INFINITY, INFINITY},
      {"3x3 s2 32->72: K slices, panel passes",  1, 13, 11, 32, 72, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 0, 6},
      {"5x5 groups 2 20->40: per-tap pieces",    1, 9,  9,  20, 40, 5, 5, 1, 1, 2, 2, 2, 2, 1, 1, 2, 1, -INFINITY, INFINITY},
      {"3x3 dilation 2 40->24 batch 2",          2, 10, 9,  40, 24, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2, 1, 0, -INFINITY, INFINITY},
      {"1x1 stride 2 130->33",                   1, 7,  8, 130, 33, 1, 1, 2, 2, 0, 0, 0, 0, 1, 1, 1, 1, -INFINITY, INFINITY},
      /* Patches read in place from the input (x86): 8-row blocks inside one output row, a
       * 16 + 8 channel split, dilation of rows; then 7-row blocks (a 7x7 map). */
      {"in place: 3x3 dilation 2x1 3->24, batch 2", 2, 20, 21, 3, 24, 3, 3, 1, 1, 2, 1, 2, 1, 2, 1, 1, 0, 0, INFINITY},
      {"in place: 5x5 s2 4->40 7x7 map relu6",   1, 17, 17, 4, 40, 5, 5, 2, 2, 0, 0, 0, 0, 1, 1, 1, 1, 0, 6},
      /* x86: one vector of output channels, two blocks of rows at once (also over K slices);
       * KWS's first layer (one input channel, windows clipped on every side); the last rows
       * of a map in tiles of up to 4 (8x8 = 64 pixels). */
      {"in place: 3x3 s2 tf-same 3->8 relu6",    1, 30, 36, 3, 8,  3, 3, 2, 2, 0, 0, 1, 1, 1, 1, 1, 1, 0, 6},
      {"in place: 3x3 40->8, K slices",          1, 5,  30, 40, 8, 3, 3, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1, -1, 1},
      {"10x4 s2 1->64 (KWS)",                    1, 49, 10, 1, 64, 10, 4, 2, 2, 4, 1, 5, 1, 1, 1, 1, 1, 0, INFINITY},
      {"3x3 s1 p1 8x8 16->16",                   1, 8,  8,  16, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, -INFINITY, INFINITY},
      /* x86: two blocks of rows with the distance between rows a constant (channels x
       * stride of 1, 8 and 5), and beyond (9). */
      {"in place: 3x3 s1 1->8 rows 1 apart",     1, 14, 30, 1, 8,  3, 3, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1, -INFINITY, INFINITY},
      {"in place: 3x3 s2 4->8 rows 8 apart relu6", 1, 13, 40, 4, 8, 3, 3, 2, 2, 0, 0, 1, 1, 1, 1, 1, 0, 0, 6},
      {"in place: 3x3 s1 5->8 rows 5 apart",     1, 6,  28, 5, 8,  3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, -1, 1},
      {"in place: 3x3 s3 3->8 rows 9 apart",     1, 12, 75, 3, 8,  3, 3, 3, 3, 0, 0, 0, 0, 1, 1, 1, 1, 0, INFINITY},
      /* x86 Winograd F(2x2, 3x3): odd maps (tiles past the last row and column), padding 0,
       * 1 and asymmetric (tiles over every border), 8 columns left after 16-wide tiles,
       * blocks of tiles that end in 4, 2 and 1 rows, batch 2, 128 x 128 channels in one
       * strip, 256 -> 136 in strips of 96 and 40, and the same on a map too small for
       * strips (direct path). */
      {"winograd 3x3 p1 8x8 16->16 relu",        1, 8,  8,  16, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, INFINITY},
      {"winograd 3x3 p1 odd 13x11 24->40",       1, 13, 11, 24, 40, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, -INFINITY, INFINITY},
      {"winograd 3x3 p0 17x10 8->24 relu6",      1, 17, 10, 8,  24, 3, 3, 1, 1, 0, 0, 0, 0, 1, 1, 1, 0, 0, 6},
      {"winograd 3x3 pad 2,0,1,2 9x14 32->8",    1, 9,  14, 32, 8,  3, 3, 1, 1, 2, 0, 1, 2, 1, 1, 1, 1, -1, 1},
      {"winograd 3x3 p1 batch 2 10x9 16->32",    2, 10, 9,  16, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, -INFINITY, INFINITY},
      {"winograd 3x3 p1 7x7 128->128",           1, 7,  7, 128, 128, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, INFINITY},
      {"winograd strips 10x10 256->136",         1, 10, 10, 256, 136, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, INFINITY},
      {"3x3 8x8 256->136 (strips, 16 tiles: direct)", 1, 8, 8, 256, 136, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, INFINITY},
      /* x86: few input channels with padding run on a padded copy (most cases above with up
       * to 8 channels); this one's copy (82 x 74 x 3) is past the 64 KiB test scratch. */
      {"padded copy 3x3 p1 80x72 3->16",         1, 80, 72, 3, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 6},
  };
  for (size_t i = 0; i < sizeof convs / sizeof convs[0]; i++) test_conv(&convs[i]);

  static const conv_case dws[] = {
      {"3x3 s1 p1 c=32 relu6",          1, 14, 13, 32, 0, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 0, 6},
      {"3x3 s2 p1 c=20",                1, 15, 16, 20, 0, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 0, 1, -INFINITY, INFINITY},
      {"3x3 s2 tf-same pad c=24",       1, 16, 16, 24, 0, 3, 3, 2, 2, 0, 0, 1, 1, 1, 1, 0, 0, -INFINITY, INFINITY},
      {"3x3 s1 c=7 batch 2",            2, 6,  9,  7,  0, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, -INFINITY, INFINITY},
      {"5x5 s2 p2 c=40",                1, 13, 11, 40, 0, 5, 5, 2, 2, 2, 2, 2, 2, 1, 1, 0, 1, 0, INFINITY},
      {"3x3 dilation 2 c=18",           1, 12, 12, 18, 0, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2, 0, 1, -INFINITY, INFINITY},
      {"3x3 on 1x1 input c=16",         1, 1,  1,  16, 0, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, -INFINITY, INFINITY},
      {"3x3 s1 no pad c=4",             1, 7,  10, 4,  0, 3, 3, 1, 1, 0, 0, 0, 0, 1, 1, 0, 1, -INFINITY, INFINITY},
      {"3x3 s1 wide c=64",              1, 5,  30, 64, 0, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 0, 6},
      {"3x1 stride 1x2 c=3",            1, 6,  7,  3,  0, 3, 1, 1, 2, 1, 0, 1, 0, 1, 1, 0, 1, -INFINITY, INFINITY},
      /* Border pixels in vectors of channels: blocks of 4 vectors, single vectors, a remainder. */
      {"3x3 s1 p1 c=8 relu6",           1, 9,  12, 8,  0, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 0, 6},
      {"3x3 s1 p1 width 5 c=72",        1, 7,  5,  72, 0, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 0, 6},
      {"3x3 s2 p1 c=41",                1, 9,  8,  41, 0, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 0, 0, -INFINITY, INFINITY},
      {"5x5 s1 p2 c=24",                1, 6,  7,  24, 0, 5, 5, 1, 1, 2, 2, 2, 2, 1, 1, 0, 1, -INFINITY, INFINITY},
      /* x86: maps at most 5 wide in whole rows (KWS's 25x5x64; stride 2 to 4 wide; 2x2,
       * every pixel a border one; 5 wide with a channel remainder and no bias), and 6 and 8
       * wide, past them. */
      {"3x3 s1 p1 25x5 c=64 (KWS) relu", 1, 25, 5,  64, 0, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 0, INFINITY},
      {"3x3 s1 p1 width 8 c=20 no bias", 1, 6,  8,  20, 0, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, -INFINITY, INFINITY},
      {"3x3 s2 tf-same 7x7 c=24 relu6 batch 2", 2, 7, 7, 24, 0, 3, 3, 2, 2, 0, 0, 1, 1, 1, 1, 0, 1, 0, 6},
      {"3x3 s2 p1 width 15 c=16",       1, 9,  15, 16, 0, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 0, 1, -INFINITY, INFINITY},
      {"3x3 s1 p1 2x2 c=40",            1, 2,  2,  40, 0, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, -1, 1},
      {"3x3 s1 p1 width 5 c=20 no bias", 1, 4, 5,  20, 0, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, -INFINITY, INFINITY},
      {"3x3 s1 p1 width 6 c=16",        1, 4,  6,  16, 0, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, -INFINITY, INFINITY},
      /* x86: maps up to 8 wide in one block per row: 7 wide with a channel remainder, 8 wide
       * at stride 2 (tf-same and padded), 9 wide past them. */
      {"3x3 s1 p1 width 7 c=12 relu6",  1, 5,  7,  12, 0, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 0, 6},
      {"3x3 s2 tf-same 16x16 -> 8x8 c=16", 1, 16, 16, 16, 0, 3, 3, 2, 2, 0, 0, 1, 1, 1, 1, 0, 1, -INFINITY, INFINITY},
      {"3x3 s2 p1 15x15 -> 8x8 c=24 no bias", 1, 15, 15, 24, 0, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 0, 0, 0, INFINITY},
      {"3x3 s1 p1 width 9 c=8",         1, 3,  9,  8,  0, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, -INFINITY, INFINITY},
      /* 5x5 in blocks of 4 pixels: inside blocks and blocks past the border on both sides
       * (14 and 11 wide), every block past it (7 wide), tf-same stride 2 (pad 1 before, 2
       * after), a channel remainder, a map narrower than the kernel, two images. */
      {"5x5 s1 p2 14x14 c=40 relu6",    1, 14, 14, 40, 0, 5, 5, 1, 1, 2, 2, 2, 2, 1, 1, 0, 1, 0, 6},
      {"5x5 s1 p2 9x11 c=21 no bias",   1, 9,  11, 21, 0, 5, 5, 1, 1, 2, 2, 2, 2, 1, 1, 0, 0, -INFINITY, INFINITY},
      {"5x5 s1 p2 7x7 c=48",            1, 7,  7,  48, 0, 5, 5, 1, 1, 2, 2, 2, 2, 1, 1, 0, 1, -INFINITY, INFINITY},
      {"5x5 s2 tf-same 14x14 c=24",     1, 14, 14, 24, 0, 5, 5, 2, 2, 1, 1, 2, 2, 1, 1, 0, 1, -INFINITY, INFINITY},
      {"5x5 s2 p2 17x10 c=36 batch 2",  2, 17, 10, 36, 0, 5, 5, 2, 2, 2, 2, 2, 2, 1, 1, 0, 1, 0, INFINITY},
      {"5x5 s1 p2 3x2 c=16",            1, 3,  2,  16, 0, 5, 5, 1, 1, 2, 2, 2, 2, 1, 1, 0, 1, -INFINITY, INFINITY},
      {"3x3 s1 p1 12x13 c=20 (blocks past both borders)", 1, 12, 13, 20, 0, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, -1, 1},
  };
  for (size_t i = 0; i < sizeof dws / sizeof dws[0]; i++) test_depthwise(&dws[i]);

  test_gemm("tiny", 1, 1, 1, 1, -inf, inf);
  test_gemm("tile", 4, 16, 16, 1, -inf, inf);
  test_gemm("edges", 5, 7, 3, 1, -inf, inf);
  test_gemm("edges relu6", 13, 27, 45, 1, 0, 6);
  test_gemm("no bias", 9, 32, 24, 0, -inf, inf);
  test_gemm("pointwise", 49, 96, 160, 1, 0, inf);
  test_gemm("linear", 1, 320, 1000, 1, -inf, inf);
  test_gemm("k=0", 3, 0, 5, 1, -inf, inf);
  /* Rows left over after whole tiles (1 to 7), across chunks of 8, 4, 2 and 1 vectors and
   * scalar columns: 187 = 2 x 64 + 32 + 16 + 8 + 3. */
  for (int m = 1; m <= 17; m++) test_gemm("few rows relu6", m, 37, 187, 1, 0, 6);
  test_gemm("lone row no bias", 1, 640, 128, 0, -inf, inf);
  /* x86: strips whose weight rows lie 1 KiB or more apart are packed first, in slices of the
   * reduction that fit the panel (16384 floats: 1024 rows of a 16-column strip; with
   * -DES_FP32_PANEL=2048, 128 rows, so the second case is sliced too). */
  test_gemm("packed strips relu6", 13, 70, 300, 1, 0, 6);
  test_gemm("packed strips, long k, no bias", 14, 200, 260, 0, -inf, inf);
  test_gemm("packed strips in slices of k relu", 12, 1100, 264, 1, 0, inf);
  test_gemm("lone row relu", 1, 128, 640, 1, 0, inf);
  test_matmul(3, 5, 7, 9, 0);
  test_matmul(4, 8, 16, 17, 1);

  test_binaries();
  test_unaries();
  test_logistic_sweep();
  test_clamp_bounds();
  test_scale_shift(7, 37);

  /*                  name                             n  h   w   c  kh kw sh sw pt pl pb pr dh dw ceil incl div */
  static const pool_case pools[] = {
      {"3x3 s2 p1 (resnet)",                         1, 16, 15, 8, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 0, 1, 0},
      {"3x3 s2 ceil (squeezenet)",                   2, 13, 13, 5, 3, 3, 2, 2, 0, 0, 0, 0, 1, 1, 1, 1, 0},
      {"2x2 s2 odd input ceil",                      1, 7,  9,  3, 2, 2, 2, 2, 0, 0, 0, 0, 1, 1, 1, 1, 0},
      {"3x3 s1 p1 exclude pad",                      1, 6,  5,  17, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0},
      {"3x3 s2 p1 ceil include pad",                 1, 8,  8,  4, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 0},
      {"2x3 s2x1 divisor 5",                         1, 6,  7,  2, 2, 3, 2, 1, 1, 0, 1, 0, 1, 1, 0, 1, 5},
  };
  for (size_t i = 0; i < sizeof pools / sizeof pools[0]; i++) {
    test_avg_pool(&pools[i], -INFINITY, INFINITY);
    if (pools[i].divisor == 0 && pools[i].count_include_pad) test_max_pool(&pools[i]);
  }
  static const pool_case dilated = {"3x3 dilation 2 s1 p2", 1, 9, 10, 6, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2, 0, 1, 0};
  test_max_pool(&dilated);
  static const pool_case wide = {"3x3 s2 p1 19 channels", 1, 11, 12, 19, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 0, 1, 0};
  test_max_pool(&wide); /* 8-channel vectors and a remainder */
  static const pool_case wider = {"3x3 s2 p1 43 channels", 1, 9, 10, 43, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 0, 1, 0};
  test_max_pool(&wider); /* 4 vectors at once, one more, a remainder */
  /* Vectors of channels (4 with NEON, 8 elsewhere) summed in registers, a scalar remainder,
   * and the fused clamp in each; then a global pool of 64 channels (KWS's). */
  test_avg_pool(&wide, 0.0f, 0.25f);
  static const pool_case global = {"25x5 global 64 channels", 1, 25, 5, 64, 25, 5, 1, 1, 0, 0, 0, 0, 1, 1, 0, 1, 0};
  test_avg_pool(&global, -0.05f, INFINITY);

  test_adaptive(7, 7, 1, 1, 32);
  test_adaptive(5, 7, 3, 2, 3);
  test_adaptive(10, 4, 4, 10, 2);
  test_mean(2, 12544, 3);
  test_mean(1, 49, 130);
  test_mean(3, 1, 5);
  test_reductions(2, 300, 3, 0);
  test_reductions(1, 49, 130, 0);
  test_reductions(3, 7, 5, 1);
  test_reductions(4, 1, 3, 0);
  test_reduce_nan();
  test_softmax(1, 1000, 1, 10, 0);
  test_softmax(2, 7, 5, 1000, 0);
  test_softmax(3, 10, 1, 50, 1);
  test_log_softmax(1, 1000, 1, 10, 0);
  test_log_softmax(2, 7, 5, 1000, 0);
  test_log_softmax(3, 10, 1, 50, 1);
  test_concat_split(3, 4);
  test_concat_split(1, 1);

  const int32_t s4[4] = {2, 3, 4, 5}, nchw_to_nhwc[4] = {0, 2, 3, 1}, nhwc_to_nchw[4] = {0, 3, 1, 2};
  const int32_t keep_last[4] = {1, 0, 2, 3};
  test_transpose("nchw->nhwc", 4, s4, nchw_to_nhwc);
  test_transpose("nhwc->nchw", 4, s4, nhwc_to_nchw);
  test_transpose("last axis kept", 4, s4, keep_last);
  const int32_t s6[6] = {2, 1, 3, 2, 4, 3}, p6[6] = {5, 3, 0, 4, 1, 2};
  test_transpose("rank 6", 6, s6, p6);
  const int32_t s1[1] = {17}, p1[1] = {0};
  test_transpose("rank 1", 1, s1, p1);
  const int32_t s2[2] = {7, 9}, p2[2] = {1, 0}, s3[3] = {3, 5, 4}, p3[3] = {2, 0, 1};
  test_transpose("rank 2", 2, s2, p2);
  test_transpose("last axis first (merged pair)", 3, s3, p3);
  /* 2 and 3 rows interleaved 8 columns at a time (x86), with columns left over: an RGB
   * image from NCHW to NHWC, a channel shuffle of 2 groups. */
  const int32_t rgb[4] = {2, 3, 5, 7}, shuffle2[3] = {4, 2, 21}, groups_last[3] = {0, 2, 1};
  test_transpose("nchw->nhwc, 3 channels, 35 pixels", 4, rgb, nchw_to_nhwc);
  test_transpose("channel shuffle, 2 groups of 21", 3, shuffle2, groups_last);
  const int32_t rgb16[3] = {3, 4, 4}, p_rgb16[3] = {1, 2, 0};
  test_transpose("3 x 16 -> 16 x 3", 3, rgb16, p_rgb16);
  /* Register blocks (8 x 8 on x86, 4 x 4 with NEON) with rows and columns left over:
   * NCHW -> NHWC with 21 channels; ShuffleNetV2's shuffle as the layout pass leaves it
   * ([pixels][2][channels] -> [channels][2][pixels], a batch of strided 2-D transposes);
   * axes of size 1 between the moved ones. */
  const int32_t c21[4] = {2, 21, 5, 7}, shuffle_nchw[3] = {37, 2, 19}, reversed[3] = {2, 1, 0};
  test_transpose("nchw->nhwc, 21 channels, 35 pixels", 4, c21, nchw_to_nhwc);
  test_transpose("[37][2][19] -> [19][2][37]", 3, shuffle_nchw, reversed);
  const int32_t ones[5] = {9, 1, 12, 1, 3}, p_ones[5] = {4, 3, 2, 1, 0};
  test_transpose("size-1 axes, reversed", 5, ones, p_ones);

  const int32_t pads4[8] = {0, 1, 2, 0, 1, 3, 2, 2};
  test_pad("rank 4", 4, s4, pads4);
  const int32_t crop4[8] = {0, 0, -1, 1, 1, -2, -1, 2};
  test_pad("negative (crop)", 4, s4, crop4);
  const int32_t pads1[2] = {3, 0};
  test_pad("rank 1", 1, s1, pads1);
  test_copy();
  test_quantize_dynamic();
  test_windows();
  test_norms();
  test_indices();

  return t_summary("kernels") ? 1 : 0;
}
