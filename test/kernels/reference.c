#include "reference.h"

#include <math.h>
#include <stddef.h>

double ref_clamp(double v, double lo, double hi) {
  if (isnan(v)) return v;
  return v < lo ? lo : v > hi ? hi : v;
}

static size_t at(es_shape4 s, int n, int y, int x, int c) {
  return (((size_t)n * s.h + y) * s.w + x) * s.c + c;
}

void ref_conv2d(const float *in, es_shape4 is, const float *w, const float *bias, double *out,
                es_shape4 os, int kh, int kw, int sh, int sw, int pt, int pl, int dh, int dw,
                int groups, double lo, double hi) {
  const int icg = is.c / groups, ocg = os.c / groups;
  for (int n = 0; n < os.n; n++)
    for (int y = 0; y < os.h; y++)
      for (int x = 0; x < os.w; x++)
        for (int o = 0; o < os.c; o++) {
          const int g = o / ocg;
          double acc = bias ? bias[o] : 0.0;
          for (int ky = 0; ky < kh; ky++)
            for (int kx = 0; kx < kw; kx++)
              for (int c = 0; c < icg; c++) {
                const int iy = y * sh - pt + ky * dh, ix = x * sw - pl + kx * dw;
                if (iy < 0 || iy >= is.h || ix < 0 || ix >= is.w) continue;
                acc += (double)in[at(is, n, iy, ix, g * icg + c)] *
                       w[(((size_t)o * kh + ky) * kw + kx) * icg + c];
              }
          out[at(os, n, y, x, o)] = ref_clamp(acc, lo, hi);
        }
}

void ref_depthwise(const float *in, es_shape4 is, const float *w, const float *bias, double *out,
                   es_shape4 os, int kh, int kw, int sh, int sw, int pt, int pl, int dh, int dw,
                   double lo, double hi) {
  for (int n = 0; n < os.n; n++)
    for (int y = 0; y < os.h; y++)
      for (int x = 0; x < os.w; x++)
        for (int c = 0; c < os.c; c++) {
          double acc = bias ? bias[c] : 0.0;
          for (int ky = 0; ky < kh; ky++)
            for (int kx = 0; kx < kw; kx++) {
              const int iy = y * sh - pt + ky * dh, ix = x * sw - pl + kx * dw;
              if (iy < 0 || iy >= is.h || ix < 0 || ix >= is.w) continue;
              acc += (double)in[at(is, n, iy, ix, c)] * w[((size_t)ky * kw + kx) * os.c + c];
            }
          out[at(os, n, y, x, c)] = ref_clamp(acc, lo, hi);
        }
}

void ref_gemm(const float *a, const float *w, const float *bias, double *out, int m, int k, int n,
              double lo, double hi) {
  for (int i = 0; i < m; i++)
    for (int j = 0; j < n; j++) {
      double acc = bias ? bias[j] : 0.0;
      for (int p = 0; p < k; p++) acc += (double)a[(size_t)i * k + p] * w[(size_t)p * n + j];
      out[(size_t)i * n + j] = ref_clamp(acc, lo, hi);
    }
}

void ref_binary(char op, const float *a, const int32_t as[4], const float *b, const int32_t bs[4],
                double *out, const int32_t shape[4], double lo, double hi) {
  size_t o = 0;
  for (int i0 = 0; i0 < shape[0]; i0++)
    for (int i1 = 0; i1 < shape[1]; i1++)
      for (int i2 = 0; i2 < shape[2]; i2++)
        for (int i3 = 0; i3 < shape[3]; i3++) {
          const double x = a[(ptrdiff_t)i0 * as[0] + (ptrdiff_t)i1 * as[1] + (ptrdiff_t)i2 * as[2] + (ptrdiff_t)i3 * as[3]];
          const double y = b[(ptrdiff_t)i0 * bs[0] + (ptrdiff_t)i1 * bs[1] + (ptrdiff_t)i2 * bs[2] + (ptrdiff_t)i3 * bs[3]];
          const double v = op == '+' ? x + y : op == '-' ? x - y : op == '*' ? x * y : op == '/' ? x / y
                           : op == 'M' ? (x > y ? x : y) : op == 'm' ? (x < y ? x : y) : (x >= 0 ? x : x * y);
          out[o++] = ref_clamp(v, lo, hi);
        }
}

void ref_max_pool(const float *in, es_shape4 is, double *out, es_shape4 os, int kh, int kw, int sh,
                  int sw, int pt, int pl, int dh, int dw) {
  for (int n = 0; n < os.n; n++)
    for (int y = 0; y < os.h; y++)
      for (int x = 0; x < os.w; x++)
        for (int c = 0; c < os.c; c++) {
          double m = -INFINITY;
          for (int ky = 0; ky < kh; ky++)
            for (int kx = 0; kx < kw; kx++) {
              const int iy = y * sh - pt + ky * dh, ix = x * sw - pl + kx * dw;
              if (iy < 0 || iy >= is.h || ix < 0 || ix >= is.w) continue;
              const double v = in[at(is, n, iy, ix, c)];
              if (isnan(v) || v > m) m = v;
              if (isnan(m)) break;
            }
          out[at(os, n, y, x, c)] = m;
        }
}

/* PyTorch's avg_pool2d (aten/src/ATen/native/cpu/AvgPoolKernel.cpp), with separate far pads. */
void ref_avg_pool(const float *in, es_shape4 is, double *out, es_shape4 os, int kh, int kw, int sh,
                  int sw, int pt, int pl, int pb, int pr, int count_include_pad, int divisor_override) {
  for (int n = 0; n < os.n; n++)
    for (int y = 0; y < os.h; y++)
      for (int x = 0; x < os.w; x++) {
        int y0 = y * sh - pt, x0 = x * sw - pl;
        int y1 = y0 + kh < is.h + pb ? y0 + kh : is.h + pb;
        int x1 = x0 + kw < is.w + pr ? x0 + kw : is.w + pr;
        const int pool = (y1 - y0) * (x1 - x0);
        y0 = y0 < 0 ? 0 : y0;
        x0 = x0 < 0 ? 0 : x0;
        y1 = y1 > is.h ? is.h : y1;
        x1 = x1 > is.w ? is.w : x1;
        const int divisor = divisor_override > 0 ? divisor_override
                            : count_include_pad ? pool
                                                : (y1 - y0) * (x1 - x0);
        for (int c = 0; c < os.c; c++) {
          double s = 0.0;
          for (int iy = y0; iy < y1; iy++)
            for (int ix = x0; ix < x1; ix++) s += in[at(is, n, iy, ix, c)];
          out[at(os, n, y, x, c)] = s / divisor;
        }
      }
}

void ref_adaptive_avg_pool(const float *in, es_shape4 is, double *out, es_shape4 os) {
  for (int n = 0; n < os.n; n++)
    for (int y = 0; y < os.h; y++)
      for (int x = 0; x < os.w; x++) {
        const int y0 = (int)floor((double)y * is.h / os.h), y1 = (int)ceil((double)(y + 1) * is.h / os.h);
        const int x0 = (int)floor((double)x * is.w / os.w), x1 = (int)ceil((double)(x + 1) * is.w / os.w);
        for (int c = 0; c < os.c; c++) {
          double s = 0.0;
          for (int iy = y0; iy < y1; iy++)
            for (int ix = x0; ix < x1; ix++) s += in[at(is, n, iy, ix, c)];
          out[at(os, n, y, x, c)] = s / ((y1 - y0) * (x1 - x0));
        }
      }
}

void ref_softmax(const float *in, double *out, int outer, int axis, int inner) {
  for (int o = 0; o < outer; o++)
    for (int i = 0; i < inner; i++) {
      double m = -INFINITY, s = 0.0;
      for (int j = 0; j < axis; j++) m = fmax(m, in[((size_t)o * axis + j) * inner + i]);
      for (int j = 0; j < axis; j++) s += exp(in[((size_t)o * axis + j) * inner + i] - m);
      for (int j = 0; j < axis; j++) {
        const size_t k = ((size_t)o * axis + j) * inner + i;
        out[k] = exp(in[k] - m) / s;
      }
    }
}

void ref_transpose(const float *in, const int32_t *shape, const int32_t *perm, int rank, double *out) {
  size_t total = 1, in_stride[6];
  for (int k = rank - 1; k >= 0; k--) {
    in_stride[k] = total;
    total *= (size_t)shape[k];
  }
  for (size_t o = 0; o < total; o++) { /* decode the output index digit by digit */
    size_t rest = o, src = 0;
    for (int k = rank - 1; k >= 0; k--) {
      const size_t d = (size_t)shape[perm[k]];
      src += (rest % d) * in_stride[perm[k]];
      rest /= d;
    }
    out[o] = in[src];
  }
}

void ref_pad(const float *in, const int32_t *shape, const int32_t *pads, int rank, double value,
             double *out) {
  int32_t out_shape[6];
  size_t total = 1;
  for (int k = 0; k < rank; k++) {
    out_shape[k] = shape[k] + pads[2 * k] + pads[2 * k + 1];
    total *= (size_t)out_shape[k];
  }
  for (size_t o = 0; o < total; o++) {
    size_t rest = o, src = 0, stride = 1;
    int inside = 1;
    for (int k = rank - 1; k >= 0; k--) {
      const int i = (int)(rest % (size_t)out_shape[k]) - pads[2 * k];
      rest /= (size_t)out_shape[k];
      if (i < 0 || i >= shape[k]) inside = 0;
      src += (size_t)i * stride;
      stride *= (size_t)shape[k];
    }
    out[o] = inside ? in[src] : value;
  }
}
