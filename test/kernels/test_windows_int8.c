/* Issue 13's int8 resampling kernels: es_resize_nearest_s8 and es_pad_mirror_s8 copy codes, so
 * they must equal the fp32 index rule applied to the codes, exactly. Called from test_int8.c's main
 * (host with sanitizers, target flags, and qemu-virt bare metal). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "edgespec/kernels_int8.h"
#include "harness.h"
#include "test_windows_int8.h"

static int8_t *codes(size_t n, uint32_t seed) {
  int8_t *p = (int8_t *)malloc(n ? n : 1);
  if (!p) {
    printf("FAIL out of memory\n");
    exit(2);
  }
  for (size_t i = 0; i < n; i++) {
    seed = seed * 1664525u + 1013904223u;
    p[i] = (int8_t)(seed >> 24);
  }
  return p;
}

static void expect_same(const char *name, const int8_t *got, const int8_t *want, size_t n) {
  size_t bad = 0;
  for (size_t i = 0; i < n; i++) bad += got[i] != want[i];
  char detail[64];
  snprintf(detail, sizeof detail, "%zu of %zu codes differ", bad, n);
  t_expect(name, bad == 0, detail);
}

static int nearest_ref(double v, int mode, int size) {
  const double r = mode == 0 ? ceil(v - 0.5) : mode == 1 ? floor(v + 0.5) : mode == 2 ? floor(v) : ceil(v);
  return r < 0 ? 0 : r > size - 1 ? size - 1 : (int)r;
}

static void test_resize_nearest_s8(const char *label, es_shape4 is, es_shape4 os, float inv_h, float inv_w,
                                   float off_in, float off_out, int mode, int divide) {
  const size_t in_n = (size_t)is.n * is.h * is.w * is.c, out_n = (size_t)os.n * os.h * os.w * os.c;
  int8_t *in = codes(in_n, 7u), *out = codes(out_n, 9u), *want = codes(out_n, 11u);
  for (int n = 0; n < os.n; n++)
    for (int y = 0; y < os.h; y++)
      for (int x = 0; x < os.w; x++) {
        const double sy = divide ? (y + off_in) / (double)inv_h - off_out : (y + off_in) * (double)inv_h - off_out;
        const double sx = divide ? (x + off_in) / (double)inv_w - off_out : (x + off_in) * (double)inv_w - off_out;
        const int iy = nearest_ref(sy, mode, is.h), ix = nearest_ref(sx, mode, is.w);
        for (int c = 0; c < os.c; c++)
          want[(((size_t)n * os.h + y) * os.w + x) * os.c + c] = in[(((size_t)n * is.h + iy) * is.w + ix) * is.c + c];
      }
  es_resize_nearest_s8(in, is, out, os, inv_h, inv_w, off_in, off_out, mode, divide);
  char name[96];
  snprintf(name, sizeof name, "resize_nearest_s8 %s", label);
  expect_same(name, out, want, out_n);
  free(in), free(out), free(want);
}

static int mirror_ref(int i, int n, int mode) {
  if (mode == 1) return i < 0 ? 0 : i >= n ? n - 1 : i;
  if (mode == 0) return i < 0 ? -i : i >= n ? 2 * (n - 1) - i : i;
  return i < 0 ? -i - 1 : i >= n ? 2 * n - 1 - i : i;
}

static void test_pad_mirror_s8(int mode) {
  const int32_t shape[4] = {1, 4, 5, 3}, pads[8] = {0, 0, 3, 1, 2, 4, 0, 0};
  int32_t out_shape[4];
  size_t in_n = 1, out_n = 1;
  for (int k = 0; k < 4; k++) {
    out_shape[k] = shape[k] + pads[2 * k] + pads[2 * k + 1];
    in_n *= (size_t)shape[k];
    out_n *= (size_t)out_shape[k];
  }
  int8_t *in = codes(in_n, 3u), *out = codes(out_n, 5u), *want = codes(out_n, 13u);
  for (size_t o = 0; o < out_n; o++) {
    size_t rest = o, src = 0, stride = 1;
    for (int k = 3; k >= 0; k--) {
      src += (size_t)mirror_ref((int)(rest % (size_t)out_shape[k]) - pads[2 * k], shape[k], mode) * stride;
      rest /= (size_t)out_shape[k];
      stride *= (size_t)shape[k];
    }
    want[o] = in[src];
  }
  es_pad_mirror_s8(in, shape, pads, 4, mode, out);
  char name[64];
  snprintf(name, sizeof name, "pad_mirror_s8 %s NHWC", mode == 0 ? "reflect" : mode == 1 ? "edge" : "symmetric");
  expect_same(name, out, want, out_n);
  free(in), free(out), free(want);
}

/* Bilinear on codes in 10-bit fixed point: within one code of the double-precision blend at the
 * exact source positions (i * in / out, or half-pixel centres, or corners). */
static void test_resize_bilinear_s8(const char *label, es_shape4 is, es_shape4 os, int corners, int half_pixel) {
  const size_t in_n = (size_t)is.n * is.h * is.w * is.c, out_n = (size_t)os.n * os.h * os.w * os.c;
  int8_t *in = codes(in_n, 17u), *out = codes(out_n, 19u);
  const int32_t sh = corners && os.h > 1 ? ((1 << 10) * (is.h - 1) + (os.h - 1) / 2) / (os.h - 1)
                                         : ((1 << 10) * is.h + os.h / 2) / os.h;
  const int32_t sw = corners && os.w > 1 ? ((1 << 10) * (is.w - 1) + (os.w - 1) / 2) / (os.w - 1)
                                         : ((1 << 10) * is.w + os.w / 2) / os.w;
  es_resize_bilinear_s8(in, is, out, os, sh, sw, half_pixel);
  int worst = 0;
  for (int n = 0; n < os.n; n++)
    for (int y = 0; y < os.h; y++)
      for (int x = 0; x < os.w; x++) {
        const double ry = corners ? (os.h > 1 ? y * (is.h - 1.0) / (os.h - 1) : 0) : half_pixel ? (y + 0.5) * is.h / os.h - 0.5 : (double)y * is.h / os.h;
        const double rx = corners ? (os.w > 1 ? x * (is.w - 1.0) / (os.w - 1) : 0) : half_pixel ? (x + 0.5) * is.w / os.w - 0.5 : (double)x * is.w / os.w;
        const double cy = ry < 0 ? 0 : ry > is.h - 1 ? is.h - 1 : ry, cx = rx < 0 ? 0 : rx > is.w - 1 ? is.w - 1 : rx;
        const int y0 = (int)floor(cy), x0 = (int)floor(cx);
        const int y1 = y0 + 1 < is.h ? y0 + 1 : is.h - 1, x1 = x0 + 1 < is.w ? x0 + 1 : is.w - 1;
        const double fy = cy - y0, fx = cx - x0;
        for (int c = 0; c < os.c; c++) {
#define AT(yy, xx) (double)in[(((size_t)n * is.h + (yy)) * is.w + (xx)) * is.c + c]
          const double v = (1 - fy) * ((1 - fx) * AT(y0, x0) + fx * AT(y0, x1)) + fy * ((1 - fx) * AT(y1, x0) + fx * AT(y1, x1));
#undef AT
          const int d = abs(out[(((size_t)n * os.h + y) * os.w + x) * os.c + c] - (int)lround(v));
          worst = d > worst ? d : worst;
        }
      }
  char name[96], detail[64];
  snprintf(name, sizeof name, "resize_bilinear_s8 %s", label);
  snprintf(detail, sizeof detail, "largest difference %d codes", worst);
  t_expect(name, worst <= 1, detail);
  free(in), free(out);
}

void test_windows_int8(void) {
  test_resize_nearest_s8("x2 half pixel centres floor (TFLite)", (es_shape4){1, 5, 6, 4}, (es_shape4){1, 10, 12, 4},
                         0.5f, 0.5f, 0.5f, 0.0f, 2, 0);
  test_resize_nearest_s8("align corners round up, batch 2", (es_shape4){2, 4, 5, 3}, (es_shape4){2, 13, 17, 3},
                         0.25f, 0.25f, 0.0f, 0.0f, 1, 0);
  test_resize_nearest_s8("divide by 1.5, ceil", (es_shape4){1, 4, 4, 2}, (es_shape4){1, 6, 6, 2},
                         1.5f, 1.5f, 0.0f, 0.0f, 3, 1);
  for (int mode = 0; mode < 3; mode++) test_pad_mirror_s8(mode);
  test_resize_bilinear_s8("x2 half pixel", (es_shape4){1, 4, 5, 3}, (es_shape4){1, 8, 10, 3}, 0, 1);
  test_resize_bilinear_s8("align corners 5->9, batch 2", (es_shape4){2, 5, 4, 2}, (es_shape4){2, 9, 7, 2}, 1, 0);
  test_resize_bilinear_s8("asymmetric 3->7", (es_shape4){1, 3, 3, 4}, (es_shape4){1, 7, 7, 4}, 0, 0);
  test_resize_bilinear_s8("shrink half pixel", (es_shape4){1, 9, 8, 2}, (es_shape4){1, 4, 3, 2}, 0, 1);
}
