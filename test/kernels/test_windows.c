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
}
