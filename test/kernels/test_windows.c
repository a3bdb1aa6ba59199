/* Issue 13's windows and resampling kernels against double references written from
 * ops.json's semantics (a scatter for conv_transpose2d, where the kernel gathers).
 * Called from test_kernels.c's main, so they run wherever the fp32 kernel tests run:
 * host (-O2, target flags, sanitizers) and qemu-virt bare metal (NEON and portable). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "edgespec/kernels.h"
#include "harness.h"
#include "test_windows.h"

static size_t count4(es_shape4 s) { return (size_t)s.n * s.h * s.w * s.c; }

static double *zeros(size_t n) {
  double *r = (double *)calloc(n ? n : 1, sizeof(double));
  if (!r) {
    printf("FAIL out of memory\n");
    exit(2);
  }
  return r;
}

typedef struct {
  const char *name;
  int n, h, w, ic, oc, kh, kw, sh, sw, pt, pl, pb, pr, oph, opw, dh, dw, groups, bias;
  float lo, hi;
} conv_transpose_case;

/* Every input pixel scatters its window into the uncropped result; y is that result cropped. */
static void ref_conv_transpose(const float *in, es_shape4 is, const float *w, const float *bias,
                               double *out, es_shape4 os, const conv_transpose_case *t) {
  const int icg = is.c / t->groups, ocg = os.c / t->groups;
  for (int n = 0; n < os.n; n++)
    for (int i = 0; i < os.h * os.w; i++)
      for (int o = 0; o < os.c; o++) out[((size_t)n * os.h * os.w + i) * os.c + o] = bias ? bias[o] : 0.0;
  for (int n = 0; n < is.n; n++)
    for (int iy = 0; iy < is.h; iy++)
      for (int ix = 0; ix < is.w; ix++)
        for (int c = 0; c < is.c; c++) {
          const int g = c / icg;
          const double v = in[(((size_t)n * is.h + iy) * is.w + ix) * is.c + c];
          for (int ky = 0; ky < t->kh; ky++)
            for (int kx = 0; kx < t->kw; kx++) {
              const int oy = iy * t->sh + ky * t->dh - t->pt, ox = ix * t->sw + kx * t->dw - t->pl;
              if (oy < 0 || oy >= os.h || ox < 0 || ox >= os.w) continue;
              for (int ol = 0; ol < ocg; ol++) {
                const int o = g * ocg + ol; /* packed weights: [OC][KH][KW][IC/groups] */
                out[(((size_t)n * os.h + oy) * os.w + ox) * os.c + o] +=
                    v * w[(((size_t)o * t->kh + ky) * t->kw + kx) * icg + (c - g * icg)];
              }
            }
        }
  for (size_t i = 0; i < count4(os); i++) out[i] = out[i] < t->lo ? t->lo : out[i] > t->hi ? t->hi : out[i];
}

static void test_conv_transpose(const conv_transpose_case *t) {
  const es_shape4 is = {t->n, t->h, t->w, t->ic};
  const es_shape4 os = {t->n, (t->h - 1) * t->sh - t->pt - t->pb + t->dh * (t->kh - 1) + t->oph + 1,
                        (t->w - 1) * t->sw - t->pl - t->pr + t->dw * (t->kw - 1) + t->opw + 1, t->oc};
  float *in = t_random(count4(is), -1, 1);
  float *w = t_random((size_t)t->oc * t->kh * t->kw * (t->ic / t->groups), -1, 1);
  float *bias = t->bias ? t_random((size_t)t->oc, -1, 1) : NULL;
  float *out = t_buffer(count4(os));
  double *ref = zeros(count4(os));
  es_conv_transpose2d_f32(in, is, w, bias, out, os, t->kh, t->kw, t->sh, t->sw, t->pt, t->pl, t->dh,
                          t->dw, t->groups, t->lo, t->hi);
  ref_conv_transpose(in, is, w, bias, ref, os, t);
  char name[112];
  snprintf(name, sizeof name, "conv_transpose2d %s", t->name);
  t_check(name, out, ref, count4(os), 1e-5);
  t_free(in), t_free(w), t_free(bias), t_free(out), free(ref);
}

/* The source coordinate in double: (i + offset_in) * inv - offset_out. */
static double source(int i, double inv, double offset_in, double offset_out) {
  return ((double)i + offset_in) * inv - offset_out;
}

static int nearest_ref(double v, int mode, int size) {
  const double r = mode == 0 ? ceil(v - 0.5) : mode == 1 ? floor(v + 0.5) : mode == 2 ? floor(v) : ceil(v);
  return r < 0 ? 0 : r > size - 1 ? size - 1 : (int)r;
}

typedef struct {
  const char *name;
  int n, h, w, c, oh, ow, mode; /* mode -1: bilinear */
  float inv_h, inv_w, offset_in, offset_out;
  int divide; /* inv_* are output/input ratios to divide by */
} resize_case;

static void test_resize(const resize_case *t) {
  const es_shape4 is = {t->n, t->h, t->w, t->c}, os = {t->n, t->oh, t->ow, t->c};
  float *in = t_random(count4(is), -1, 1);
  float *out = t_buffer(count4(os));
  double *ref = zeros(count4(os));
  for (int n = 0; n < os.n; n++)
    for (int y = 0; y < os.h; y++)
      for (int x = 0; x < os.w; x++)
        for (int c = 0; c < os.c; c++) {
          const double sy = t->divide ? ((double)y + t->offset_in) / t->inv_h - t->offset_out
                                      : source(y, t->inv_h, t->offset_in, t->offset_out);
          const double sx = t->divide ? ((double)x + t->offset_in) / t->inv_w - t->offset_out
                                      : source(x, t->inv_w, t->offset_in, t->offset_out);
#define AT(yy, xx) in[(((size_t)n * is.h + (yy)) * is.w + (xx)) * is.c + c]
          double v;
          if (t->mode >= 0) {
            v = AT(nearest_ref(sy, t->mode, is.h), nearest_ref(sx, t->mode, is.w));
          } else {
            const double cy = sy < 0 ? 0 : sy > is.h - 1 ? is.h - 1 : sy;
            const double cx = sx < 0 ? 0 : sx > is.w - 1 ? is.w - 1 : sx;
            const int y0 = (int)floor(cy), x0 = (int)floor(cx);
            const int y1 = y0 + 1 < is.h ? y0 + 1 : is.h - 1, x1 = x0 + 1 < is.w ? x0 + 1 : is.w - 1;
            const double fy = cy - y0, fx = cx - x0;
            v = (1 - fy) * ((1 - fx) * AT(y0, x0) + fx * AT(y0, x1)) + fy * ((1 - fx) * AT(y1, x0) + fx * AT(y1, x1));
          }
#undef AT
          ref[(((size_t)n * os.h + y) * os.w + x) * os.c + c] = v;
        }
  char name[112];
  if (t->mode >= 0) {
    es_resize_nearest_f32(in, is, out, os, t->inv_h, t->inv_w, t->offset_in, t->offset_out, t->mode, t->divide);
    snprintf(name, sizeof name, "resize_nearest %s", t->name);
    t_check(name, out, ref, count4(os), 0); /* a copy: exact */
  } else {
    es_resize_bilinear_f32(in, is, out, os, t->inv_h, t->inv_w, t->offset_in, t->offset_out, t->divide);
    snprintf(name, sizeof name, "resize_bilinear %s", t->name);
    t_check(name, out, ref, count4(os), 1e-5);
  }
  t_free(in), t_free(out), free(ref);
}

static int mirror_ref(int i, int n, int mode) {
  if (mode == 1) return i < 0 ? 0 : i >= n ? n - 1 : i;
  if (mode == 0) return i < 0 ? -i : i >= n ? 2 * (n - 1) - i : i;
  return i < 0 ? -i - 1 : i >= n ? 2 * n - 1 - i : i;
}

static void test_pad_mirror(const char *label, int rank, const int32_t *shape, const int32_t *pads, int mode) {
  int32_t out_shape[6];
  size_t in_count = 1, out_count = 1;
  for (int k = 0; k < rank; k++) {
    out_shape[k] = shape[k] + pads[2 * k] + pads[2 * k + 1];
    in_count *= (size_t)shape[k];
    out_count *= (size_t)out_shape[k];
  }
  float *in = t_random(in_count, -1, 1);
  float *out = t_buffer(out_count);
  double *ref = zeros(out_count);
  for (size_t o = 0; o < out_count; o++) {
    size_t rest = o, src = 0, stride = 1;
    for (int k = rank - 1; k >= 0; k--) {
      const int i = mirror_ref((int)(rest % (size_t)out_shape[k]) - pads[2 * k], shape[k], mode);
      src += (size_t)i * stride;
      rest /= (size_t)out_shape[k];
      stride *= (size_t)shape[k];
    }
    ref[o] = in[src];
  }
  es_pad_mirror_f32(in, shape, pads, rank, mode, out);
  char name[112];
  snprintf(name, sizeof name, "pad_mirror %s %s", mode == 0 ? "reflect" : mode == 1 ? "edge" : "symmetric", label);
  t_check(name, out, ref, out_count, 0);
  t_free(in), t_free(out), free(ref);
}

void test_windows(void) {
  const float inf = INFINITY;
  /*                                 name                      n  h  w ic oc kh kw sh sw pt pl pb pr oph opw dh dw g bias lo hi */
  static const conv_transpose_case cts[] = {
      {"3x3 s2 p1 output_padding 1 (U-Net)", 1, 5, 6, 4, 3, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, -INFINITY, INFINITY},
      {"2x2 s2 no padding, batch 2",          2, 4, 3, 3, 5, 2, 2, 2, 2, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, -INFINITY, INFINITY},
      {"groups 2, dilation 2, relu",          1, 4, 4, 6, 4, 3, 3, 1, 1, 1, 1, 1, 1, 0, 0, 2, 2, 2, 0, 0, INFINITY},
      {"stride 3x2, asymmetric crop",         1, 3, 5, 2, 3, 4, 3, 3, 2, 2, 0, 1, 1, 2, 1, 1, 1, 1, 1, -1, 1},
      {"depthwise-like groups = channels",    1, 4, 4, 5, 5, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 5, 1, -INFINITY, INFINITY},
  };
  for (size_t i = 0; i < sizeof cts / sizeof cts[0]; i++) test_conv_transpose(&cts[i]);
  (void)inf;

  /*                 name                                n  h  w  c  oh  ow mode inv_h   inv_w   off_in off_out */
  static const resize_case rs[] = {
      {"x2 asymmetric floor (PyTorch nearest)",          1, 4, 5, 3, 8, 10, 2, 0.5f, 0.5f, 0.0f, 0.0f, 0},
      {"7/5 asymmetric floor, batch 2",                  2, 5, 5, 2, 7, 7, 2, 5.0f / 7, 5.0f / 7, 0.0f, 0.0f, 0},
      {"x2 half pixel round half down (ONNX)",           1, 3, 4, 5, 6, 8, 0, 0.5f, 0.5f, 0.5f, 0.5f, 0},
      {"x3 half pixel round half up",                    1, 3, 3, 1, 9, 9, 1, 1.0f / 3, 1.0f / 3, 0.5f, 0.5f, 0},
      {"align corners round up (TFLite)",                1, 4, 6, 2, 7, 11, 1, 0.5f, 0.5f, 0.0f, 0.0f, 0},
      {"shrink ceil",                                    1, 9, 8, 3, 4, 3, 3, 9.0f / 4, 8.0f / 3, 0.0f, 0.0f, 0},
      {"tf half pixel for nn floor",                     1, 5, 4, 4, 10, 6, 2, 0.5f, 4.0f / 6, 0.5f, 0.0f, 0},
      {"bilinear x2 half pixel (PyTorch)",               1, 4, 5, 3, 8, 10, -1, 0.5f, 0.5f, 0.5f, 0.5f, 0},
      {"bilinear align corners 5->9, 7->13",             1, 5, 7, 6, 9, 13, -1, 0.5f, 0.5f, 0.0f, 0.0f, 0},
      {"bilinear asymmetric 3->7, batch 2",              2, 3, 3, 2, 7, 7, -1, 3.0f / 7, 3.0f / 7, 0.0f, 0.0f, 0},
      {"bilinear shrink half pixel",                     1, 9, 10, 5, 4, 3, -1, 9.0f / 4, 10.0f / 3, 0.5f, 0.5f, 0},
      {"bilinear 1x1 input",                             1, 1, 1, 4, 3, 2, -1, 1.0f / 3, 0.5f, 0.5f, 0.5f, 0},
      {"divide by 1.5 ceil (ONNX scales)",               1, 4, 4, 2, 6, 6, 3, 1.5f, 1.5f, 0.0f, 0.0f, 1},
      {"bilinear divide by 1.7 x 0.6",                   1, 5, 5, 3, 8, 3, -1, 1.7f, 0.6f, 0.5f, 0.5f, 1},
  };
  for (size_t i = 0; i < sizeof rs / sizeof rs[0]; i++) test_resize(&rs[i]);

  const int32_t nchw[4] = {2, 3, 4, 5}, pads_hw[8] = {0, 0, 0, 0, 3, 1, 2, 4};
  const int32_t nhwc[4] = {1, 4, 5, 3}, pads_nhwc[8] = {0, 0, 2, 3, 4, 1, 0, 0};
  const int32_t one_d[3] = {2, 3, 6}, pads_1d[6] = {0, 0, 1, 0, 5, 2};
  const int32_t tiny[2] = {1, 1}, pads_tiny[4] = {2, 1, 1, 3};
  for (int mode = 0; mode < 3; mode++) {
    test_pad_mirror("NCHW H and W", 4, nchw, pads_hw, mode);
    test_pad_mirror("NHWC H and W", 4, nhwc, pads_nhwc, mode);
    test_pad_mirror("rank 3", 3, one_d, pads_1d, mode);
  }
  test_pad_mirror("1x1", 2, tiny, pads_tiny, 1);
}
