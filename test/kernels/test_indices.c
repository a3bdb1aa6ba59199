/* Integer tensors in the image: es_take_f32 (indices read at run time, int32 and int64, each
 * checked: an out-of-range one fills the fault and leaves the output unwritten), the integer
 * add / sub / mul with broadcasting and wrap-around, the casts of an argmax index, and
 * es_pow_tensor_f32 against a double-precision pow with broadcasting. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edgespec/kernels.h"
#include "harness.h"
#include "test_indices.h"

static double *ref_buffer(size_t n) {
  double *r = (double *)malloc((n ? n : 1) * sizeof(double));
  if (!r) {
    printf("FAIL out of memory\n");
    exit(1);
  }
  return r;
}

/* ref[o][k][i] = in[o][index_k][i], index_k already wrapped. */
static void ref_take(const float *in, double *ref, int outer, int axis, int inner, const int64_t *wrapped, int count) {
  for (int o = 0; o < outer; o++)
    for (int k = 0; k < count; k++)
      for (int i = 0; i < inner; i++) ref[((size_t)o * count + k) * inner + i] = in[((size_t)o * axis + wrapped[k]) * inner + i];
}

static void test_take_in_range(void) {
  const int outer = 3, axis = 7, inner = 5, count = 6;
  const int32_t idx32[6] = {6, 0, 6, 2, 1, 3};
  const int64_t idx64[6] = {6, 0, 6, 2, 1, 3};
  const int64_t negative[6] = {-1, 0, -7, 2, -3, 3}, wrapped_negative[6] = {6, 0, 0, 2, 4, 3};
  float *in = t_random((size_t)outer * axis * inner, -1, 1), *out = t_buffer((size_t)outer * count * inner);
  double *ref = ref_buffer((size_t)outer * count * inner);
  es_input_fault fault;
  memset(&fault, 0, sizeof fault);

  ref_take(in, ref, outer, axis, inner, idx64, count);
  int rc = es_take_f32(in, out, outer, axis, inner, idx32, 4, count, 0, &fault, "ids");
  t_expect("take int32 indices: returns 0", rc == 0, "");
  t_check("take [3][7][5] int32 indices 6 0 6 2 1 3", out, ref, (size_t)outer * count * inner, 0);
  rc = es_take_f32(in, out, outer, axis, inner, idx64, 8, count, 0, &fault, "ids");
  t_expect("take int64 indices: returns 0", rc == 0, "");
  t_check("take [3][7][5] int64 indices", out, ref, (size_t)outer * count * inner, 0);

  ref_take(in, ref, outer, axis, inner, wrapped_negative, count);
  rc = es_take_f32(in, out, outer, axis, inner, negative, 8, count, 1, &fault, "ids");
  t_expect("take negative indices counted from the end: returns 0", rc == 0, "");
  t_check("take negative indices -1 0 -7 2 -3 3", out, ref, (size_t)outer * count * inner, 0);
  t_expect("take in range: the output's guards intact", t_guards_intact(out), "");
  t_free(in), t_free(out), free(ref);
}

static void test_take_out_of_range(void) {
  const int axis = 10, inner = 4, count = 4;
  float *in = t_random((size_t)axis * inner, -1, 1), *out = t_buffer((size_t)count * inner);
  es_input_fault fault;
  char detail[160];
  const int64_t beyond[4] = {1, 2, 10, 0};
  memset(&fault, 0, sizeof fault);
  int rc = es_take_f32(in, out, 1, axis, inner, beyond, 8, count, 0, &fault, "ids");
  snprintf(detail, sizeof detail, "rc=%d tensor=%s position=%d index=%lld range=[%lld, %lld)", rc, fault.tensor ? fault.tensor : "(null)",
           (int)fault.position, (long long)fault.index, (long long)fault.low, (long long)fault.bound);
  t_expect("take index 10 of an axis of 10: refused with the input, element, index and bound",
           rc == 1 && fault.tensor && strcmp(fault.tensor, "ids") == 0 && fault.position == 2 && fault.index == 10 &&
               fault.low == 0 && fault.bound == 10, detail);
  int untouched = 1;
  for (int i = 0; i < count * inner; i++) untouched &= out[i] != out[i]; /* still the harness's NaN */
  t_expect("take refused: nothing written", untouched, "");

  const int32_t negative[4] = {0, -1, 3, 3};
  memset(&fault, 0, sizeof fault);
  rc = es_take_f32(in, out, 1, axis, inner, negative, 4, count, 0, &fault, "ids");
  t_expect("take -1 without negative_indices: refused, range [0, 10)", rc == 1 && fault.index == -1 && fault.position == 1 && fault.low == 0, "");
  const int64_t too_negative[4] = {0, 1, 2, -11};
  memset(&fault, 0, sizeof fault);
  rc = es_take_f32(in, out, 1, axis, inner, too_negative, 8, count, 1, &fault, "ids");
  t_expect("take -11 with negative_indices: refused, range [-10, 10)", rc == 1 && fault.index == -11 && fault.low == -10 && fault.bound == 10, "");
  const int64_t huge[4] = {0, (int64_t)1 << 40, 0, 0};
  rc = es_take_f32(in, out, 1, axis, inner, huge, 8, count, 1, &fault, "ids");
  t_expect("take 2^40 (beyond int32): refused, not truncated", rc == 1 && fault.index == ((int64_t)1 << 40), "");
  t_free(in), t_free(out);
}

/* a[i] OP b[j] with the broadcast of es_add_f32: out [2][3][4], a [2][1][4], b [3][1]. */
static void test_integer_binaries(void) {
  const int32_t out_shape[4] = {1, 2, 3, 4}, a_strides[4] = {0, 4, 0, 1}, b_strides[4] = {0, 0, 1, 0};
  int64_t a64[8], b64[3], out64[24];
  int32_t a32[8], b32[3], out32[24];
  for (int i = 0; i < 8; i++) a64[i] = a32[i] = i * 7 - 20;
  for (int i = 0; i < 3; i++) b64[i] = b32[i] = 3 - i * 5;
  a64[7] = INT64_MAX; /* wraps as two's complement, as PyTorch and onnxruntime do */
  a32[7] = INT32_MAX;
  int ok64[3] = {1, 1, 1}, ok32[3] = {1, 1, 1};
  for (int op = 0; op < 3; op++) {
    if (op == 0) es_add_i64(a64, a_strides, b64, b_strides, out64, out_shape), es_add_i32(a32, a_strides, b32, b_strides, out32, out_shape);
    if (op == 1) es_sub_i64(a64, a_strides, b64, b_strides, out64, out_shape), es_sub_i32(a32, a_strides, b32, b_strides, out32, out_shape);
    if (op == 2) es_mul_i64(a64, a_strides, b64, b_strides, out64, out_shape), es_mul_i32(a32, a_strides, b32, b_strides, out32, out_shape);
    for (int y = 0; y < 2; y++)
      for (int r = 0; r < 3; r++)
        for (int c = 0; c < 4; c++) {
          const uint64_t p = (uint64_t)a64[y * 4 + c], q = (uint64_t)b64[r];
          const uint32_t p32 = (uint32_t)a32[y * 4 + c], q32 = (uint32_t)b32[r];
          const int64_t want = (int64_t)(op == 0 ? p + q : op == 1 ? p - q : p * q);
          const int32_t want32 = (int32_t)(op == 0 ? p32 + q32 : op == 1 ? p32 - q32 : p32 * q32);
          ok64[op] &= out64[(y * 3 + r) * 4 + c] == want;
          ok32[op] &= out32[(y * 3 + r) * 4 + c] == want32;
        }
  }
  t_expect("add_i64 broadcast [2][1][4] + [3][1], INT64_MAX wraps", ok64[0], "");
  t_expect("sub_i64 broadcast", ok64[1], "");
  t_expect("mul_i64 broadcast", ok64[2], "");
  t_expect("add_i32 broadcast, INT32_MAX wraps", ok32[0], "");
  t_expect("sub_i32 broadcast", ok32[1], "");
  t_expect("mul_i32 broadcast", ok32[2], "");
}

static void test_casts(void) {
  const float index[5] = {0, 1, 7, 16777215, 42};
  int64_t out64[5];
  int32_t out32[5];
  es_cast_f32_i64(index, out64, 5);
  es_cast_f32_i32(index, out32, 5);
  int ok = 1;
  for (int i = 0; i < 5; i++) ok &= out64[i] == (int64_t)index[i] && out32[i] == (int32_t)index[i];
  t_expect("cast of argmax indices (up to 2^24 - 1) to int64 and int32: exact", ok, "");
}

static void test_pow_tensor(void) {
  /* out [2][3][5]; base [2][3][5] in (0.1, 3); exponent [3][1] in (-2, 2.5): broadcast along the last dim */
  const int32_t out_shape[4] = {1, 2, 3, 5}, x_strides[4] = {0, 15, 5, 1}, e_strides[4] = {0, 0, 1, 0};
  float *x = t_random(30, 0.1f, 3), *e = t_random(3, -2, 2.5f), *out = t_buffer(30);
  double *ref = ref_buffer(30);
  for (int i = 0; i < 30; i++) ref[i] = pow((double)x[i], (double)e[(i / 5) % 3]);
  es_pow_tensor_f32(x, x_strides, e, e_strides, out, out_shape, -INFINITY, INFINITY);
  t_check_elementwise("pow_tensor broadcast exponent [3][1]", out, ref, 30, 2e-6, 0);
  /* a negative base: an integer exponent gives the signed power, another one NaN (powf) */
  float base[4] = {-2, -2, -0.5f, 4}, power[4] = {3, 0.5f, -2, 0.5f};
  const int32_t four[4] = {1, 1, 1, 4}, dense[4] = {0, 0, 0, 1};
  double want[4] = {-8, NAN, 4, 2};
  es_pow_tensor_f32(base, dense, power, dense, out, four, -INFINITY, INFINITY);
  t_check_elementwise("pow_tensor negative bases: (-2)^3, (-2)^0.5 = NaN, (-0.5)^-2, 4^0.5", out, want, 4, 1e-6, 0);
  /* a fused clamp applies after the power */
  es_pow_tensor_f32(x, x_strides, e, e_strides, out, out_shape, 0, 1);
  for (int i = 0; i < 30; i++) ref[i] = fmin(fmax(ref[i], 0), 1);
  t_check_elementwise("pow_tensor with a fused clamp [0, 1]", out, ref, 30, 2e-6, 0);
  t_free(x), t_free(e), t_free(out), free(ref);
}

void test_indices(void) {
  test_take_in_range();
  test_take_out_of_range();
  test_integer_binaries();
  test_casts();
  test_pow_tensor();
}
