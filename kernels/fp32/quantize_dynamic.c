/* Run-time activation quantization of a dynamically quantized ("hybrid") model, written back as the
 * real values it rounds to: y = scale * (q - zero_point) with the scale and zero point the framework
 * derives from each row's range at run time. The matmul / conv that reads y then multiplies exactly
 * representable values by the dequantized int8 weights, so it differs from the framework's int32
 * accumulate-then-scale only by float rounding.
 *
 * scheme 0, ONNX DynamicQuantizeLinear (onnxruntime's CPU kernel): uint8, range [min(x, 0), max(x, 0)],
 *   scale = (max - min) / 255 in float32 (1 when the range is empty), zero point = 0 - min / scale clamped
 *   to [0, 255] and rounded half to even, q = clamp(round_half_even(x / scale) + zero point, 0, 255).
 * scheme 1, TFLite SymmetricQuantizeFloats: int8, range = max |x|, scale = range / 127,
 *   q = clamp(round_away(x * (127 / range)), -127, 127); y = 0 when range is 0.
 * scheme 2, TFLite AsymmetricQuantizeFloats: int8, range [min(x, 0), max(x, 0)] in double, scale =
 *   (max - min) / 255, the zero point from whichever end loses less (rounded away from zero, nudged into
 *   [-128, 127]); q = clamp(round_away(x * (1 / scale)) + zero point, -128, 127); y = 0 when the range is empty.
 * Each of `rows` rows of `cols` values gets its own range (the whole tensor is one row for ONNX). In place allowed. */
#include "edgespec/kernels.h"

/* Values here are bounded (|v| < 2^30 after the clamps below), so a cast truncates exactly. */
static double trunc_d(double v) { return (double)(int64_t)v; }

static double floor_d(double v) {
  double t = trunc_d(v);
  return t > v ? t - 1.0 : t;
}

static double round_away(double v) { return v >= 0 ? floor_d(v + 0.5) : -floor_d(-v + 0.5); }

static double round_half_even(double v) {
  double r = floor_d(v + 0.5);
  if (r - v == 0.5 && (int64_t)r % 2 != 0) r -= 1.0;
  return r;
}

static double clamp_d(double v, double lo, double hi) { return v < lo ? lo : v > hi ? hi : v; }

static void row_range(const float *x, int32_t cols, float *lo, float *hi) {
  float mn = x[0], mx = x[0];
  for (int32_t i = 1; i < cols; i++) {
    if (x[i] < mn) mn = x[i];
    if (x[i] > mx) mx = x[i];
  }
  *lo = mn;
  *hi = mx;
}

static void onnx_uint8(const float *x, float *y, int32_t cols) {
  float mn, mx;
  row_range(x, cols, &mn, &mx);
  if (mn > 0.0f) mn = 0.0f;
  if (mx < 0.0f) mx = 0.0f;
  const float scale = mx == mn ? 1.0f : (mx - mn) / 255.0f;
  const float zero_f = 0.0f - mn / scale;
  const double zero = round_half_even(clamp_d(zero_f, 0.0, 255.0));
  for (int32_t i = 0; i < cols; i++) {
    const float v = x[i] / scale;
    const double q = clamp_d(round_half_even(clamp_d(v, -1024.0, 1024.0)) + zero, 0.0, 255.0);
    y[i] = (float)(q - zero) * scale;
  }
}

static void tflite_symmetric(const float *x, float *y, int32_t cols) {
  float mn, mx;
  row_range(x, cols, &mn, &mx);
  const float a = mn < 0.0f ? -mn : mn, b = mx < 0.0f ? -mx : mx;
  const float range = a > b ? a : b;
  if (range == 0.0f) {
    for (int32_t i = 0; i < cols; i++) y[i] = 0.0f;
    return;
  }
  const float scale = range / 127.0f, inverse = 127.0f / range;
  for (int32_t i = 0; i < cols; i++) {
    const float v = x[i] * inverse;
    y[i] = (float)clamp_d(round_away(clamp_d(v, -1024.0, 1024.0)), -127.0, 127.0) * scale;
  }
}

static void tflite_asymmetric(const float *x, float *y, int32_t cols) {
  float mn, mx;
  row_range(x, cols, &mn, &mx);
  const double rmin = mn < 0.0f ? (double)mn : 0.0, rmax = mx > 0.0f ? (double)mx : 0.0;
  if (rmin == rmax) {
    for (int32_t i = 0; i < cols; i++) y[i] = 0.0f;
    return;
  }
  const double scale_d = (rmax - rmin) / 255.0;
  const double from_min = -128.0 - rmin / scale_d, from_max = 127.0 - rmax / scale_d;
  const double min_error = 128.0 + (rmin / scale_d < 0 ? -rmin / scale_d : rmin / scale_d);
  const double max_error = 127.0 + (rmax / scale_d < 0 ? -rmax / scale_d : rmax / scale_d);
  const double zero_d = min_error < max_error ? from_min : from_max;
  const double zero = zero_d <= -128.0 ? -128.0 : zero_d >= 127.0 ? 127.0 : round_away(zero_d);
  const float scale = (float)scale_d, inverse = 1.0f / scale;
  for (int32_t i = 0; i < cols; i++) {
    const float v = x[i] * inverse;
    const double q = clamp_d(round_away(clamp_d(v, -1024.0, 1024.0)) + zero, -128.0, 127.0);
    y[i] = (float)(q - zero) * scale;
  }
}

void es_quantize_dynamic_f32(const float *x, float *y, int32_t rows, int32_t cols, int32_t scheme) {
  for (int32_t r = 0; r < rows; r++) {
    const float *xr = x + (int64_t)r * cols;
    float *yr = y + (int64_t)r * cols;
    if (scheme == 0) onnx_uint8(xr, yr, cols);
    else if (scheme == 1) tflite_symmetric(xr, yr, cols);
    else tflite_asymmetric(xr, yr, cols);
  }
}
