/* int8 kernels (kernels/int8) against plain reference implementations of the same integer
 * arithmetic, written here the way TFLite's reference kernels state it: (q - zero_point)
 * products, padding skipped, no folded bias. Every output must be bit-identical. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edgespec/kernels_int8.h"
#include "harness.h"
#include "test_windows_int8.h"
#include "test_indices_int8.h"

/* --- reference arithmetic ------------------------------------------------------------ */

static int32_t ref_srdhm(int32_t a, int32_t b) {
  int overflow = a == b && a == INT32_MIN;
  int64_t ab = (int64_t)a * b;
  int32_t nudge = ab >= 0 ? (1 << 30) : (1 - (1 << 30));
  int32_t high = (int32_t)((ab + nudge) / (1ll << 31));
  return overflow ? INT32_MAX : high;
}

static int32_t ref_rdbpot(int32_t x, int e) {
  if (e == 0) return x;
  /* round half away from zero of x / 2^e */
  int64_t v = x;
  int64_t half = 1ll << (e - 1);
  return (int32_t)(v >= 0 ? (v + half) >> e : -((-v + half) >> e));
}

static int32_t ref_requant(int32_t x, int32_t mult, int32_t shift) {
  int64_t scaled = (int64_t)x * ((int64_t)1 << (shift > 0 ? shift : 0));
  return ref_rdbpot(ref_srdhm((int32_t)scaled, mult), shift > 0 ? 0 : -shift);
}

static int32_t clampi(int32_t v, int32_t lo, int32_t hi) { return v < lo ? lo : v > hi ? hi : v; }

/* --- data ---------------------------------------------------------------------------- */

static uint32_t rng_state = 12345;
static int32_t rnd(int32_t lo, int32_t hi) { /* inclusive */
  rng_state = rng_state * 1664525u + 1013904223u;
  return (int32_t)(lo + (int64_t)(rng_state % (uint64_t)((int64_t)hi - lo + 1)));
}
static int8_t *rand_s8(size_t n, int lo, int hi) {
  int8_t *p = malloc(n ? n : 1);
  for (size_t i = 0; i < n; i++) p[i] = (int8_t)rnd(lo, hi);
  return p;
}
/* Multipliers in [2^30, 2^31) and shifts as real layers have them. */
static void rand_requant(int32_t *mult, int8_t *shift, int n) {
  for (int i = 0; i < n; i++) {
    mult[i] = (int32_t)((1u << 30) + ((uint32_t)rnd(0, 1 << 30) & 0x3fffffff));
    /* Mostly as real layers have them; every seventh channel anywhere in [-31, 2]. */
    shift[i] = (int8_t)(i % 7 == 3 ? rnd(-31, 2) : rnd(-12, -5));
  }
}

/* A sweep runs many cases and reports them as one check: the cases run, the ones that
 * differ, and the first of those. */
static struct {
  int active;
  size_t cases, bad_cases;
  char first_bad[300];
} sweep;

static void check_s8(const char *name, const int8_t *got, const int8_t *want, size_t n) {
  size_t bad = 0, first = 0;
  for (size_t i = 0; i < n; i++) if (got[i] != want[i]) { if (!bad) first = i; bad++; }
  char detail[160];
  snprintf(detail, sizeof detail, "%zu of %zu differ, first at %zu: %d vs %d", bad, n, first,
           bad ? got[first] : 0, bad ? want[first] : 0);
  if (sweep.active) {
    sweep.cases++;
    if (bad && sweep.bad_cases++ == 0) snprintf(sweep.first_bad, sizeof sweep.first_bad, "%s: %s", name, detail);
    return;
  }
  t_expect(name, bad == 0, detail);
}

static void sweep_begin(void) {
  sweep.active = 1, sweep.cases = 0, sweep.bad_cases = 0, sweep.first_bad[0] = 0;
}

static void sweep_end(const char *name) {
  char detail[400];
  snprintf(detail, sizeof detail, "%zu of %zu cases differ; first: %s", sweep.bad_cases, sweep.cases, sweep.first_bad);
  sweep.active = 0;
  t_expect(name, sweep.bad_cases == 0 && sweep.cases > 0, detail);
}

/* --- conv ------------------------------------------------------------------------------ */

typedef struct {
  const char *name;
  int n, h, w, ic, oc, kh, kw, sh, sw, pt, pl, pb, pr, dh, dw, groups, depthwise, bias, lo, hi;
  int extreme; /* every input -128 and every weight -127: the largest int16 pairs and int32 sums */
} conv_case;

/* A pack slot no other case uses (kernels_int8.h); 0 once they run out (packed per call). */
static int32_t next_pack_slot(void) {
  static int32_t used = 0;
  return used < ES_S8_PACK_SLOTS ? ++used : 0;
}

static int out_size(int in, int k, int s, int before, int after, int d) {
  return (in + before + after - d * (k - 1) - 1) / s + 1;
}

static void test_conv(const conv_case *c) {
  const int oc = c->depthwise ? c->ic : c->oc;
  const int icg = c->depthwise ? 1 : c->ic / c->groups, ocg = c->depthwise ? 1 : oc / c->groups;
  const int oh = out_size(c->h, c->kh, c->sh, c->pt, c->pb, c->dh), ow = out_size(c->w, c->kw, c->sw, c->pl, c->pr, c->dw);
  const size_t in_n = (size_t)c->n * c->h * c->w * c->ic, out_n = (size_t)c->n * oh * ow * oc;
  const size_t w_n = (size_t)oc * c->kh * c->kw * icg;
  int8_t *x = c->extreme ? rand_s8(in_n, -128, -128) : rand_s8(in_n, -128, 127);
  int8_t *w = c->extreme ? rand_s8(w_n, -127, -127) : rand_s8(w_n, -127, 127);
  int32_t *bias = malloc(sizeof(int32_t) * oc), *folded = malloc(sizeof(int32_t) * oc), *mult = malloc(sizeof(int32_t) * oc);
  int8_t *shift = malloc(oc), *got = malloc(out_n), *want = malloc(out_n);
  const int in_zp = c->extreme ? -128 : rnd(-128, 127), out_zp = rnd(-20, 20);
  rand_requant(mult, shift, oc);
  /* weight of output channel o, tap (ky, kx), input channel i of its group */
  #define W(o, ky, kx, i) (c->depthwise ? w[((size_t)(ky) * c->kw + (kx)) * oc + (o)] \
                                        : w[(((size_t)(o) * c->kh + (ky)) * c->kw + (kx)) * icg + (i)])
  for (int o = 0; o < oc; o++) {
    bias[o] = c->bias ? rnd(-20000, 20000) : 0;
    int32_t sum = 0;
    for (int ky = 0; ky < c->kh; ky++) for (int kx = 0; kx < c->kw; kx++) for (int i = 0; i < icg; i++) sum += W(o, ky, kx, i);
    folded[o] = bias[o] - in_zp * sum;
  }
  for (int b = 0; b < c->n; b++) for (int oy = 0; oy < oh; oy++) for (int ox = 0; ox < ow; ox++) for (int o = 0; o < oc; o++) {
    int32_t acc = bias[o];
    const int g = o / ocg;
    for (int ky = 0; ky < c->kh; ky++) for (int kx = 0; kx < c->kw; kx++) {
      const int iy = oy * c->sh - c->pt + ky * c->dh, ix = ox * c->sw - c->pl + kx * c->dw;
      if (iy < 0 || iy >= c->h || ix < 0 || ix >= c->w) continue;
      for (int i = 0; i < icg; i++) {
        const int ch = c->depthwise ? o : g * icg + i;
        acc += (x[(((size_t)b * c->h + iy) * c->w + ix) * c->ic + ch] - in_zp) * W(o, ky, kx, i);
      }
    }
    want[(((size_t)b * oh + oy) * ow + ox) * oc + o] = (int8_t)clampi(out_zp + ref_requant(acc, mult[o], shift[o]), c->lo, c->hi);
  }
  #undef W
  es_shape4 is = {c->n, c->h, c->w, c->ic}, os = {c->n, oh, ow, oc};
  if (c->depthwise) {
    es_conv2d_depthwise_s8(x, is, in_zp, w, folded, got, os, c->kh, c->kw, c->sh, c->sw, c->pt, c->pl,
                           c->dh, c->dw, out_zp, mult, shift, c->lo, c->hi, 0);
  } else {
    es_conv2d_s8(x, is, in_zp, w, folded, got, os, c->kh, c->kw, c->sh, c->sw, c->pt, c->pl, c->dh, c->dw, c->groups,
                 out_zp, mult, shift, c->lo, c->hi, 0);
  }
  char name[128];
  snprintf(name, sizeof name, "%s %s", c->depthwise ? "depthwise_s8" : "conv2d_s8", c->name);
  check_s8(name, got, want, out_n);
  /* with a pack slot: the call that packs the weights, then one that finds them packed */
  const int32_t slot = next_pack_slot();
  for (int call = 1; call <= 2; call++) {
    memset(got, 0x5a, out_n);
    if (c->depthwise)
      es_conv2d_depthwise_s8(x, is, in_zp, w, folded, got, os, c->kh, c->kw, c->sh, c->sw, c->pt, c->pl,
                             c->dh, c->dw, out_zp, mult, shift, c->lo, c->hi, slot);
    else
      es_conv2d_s8(x, is, in_zp, w, folded, got, os, c->kh, c->kw, c->sh, c->sw, c->pt, c->pl, c->dh, c->dw, c->groups,
                   out_zp, mult, shift, c->lo, c->hi, slot);
    snprintf(name, sizeof name, "%s %s, pack slot %d call %d", c->depthwise ? "depthwise_s8" : "conv2d_s8", c->name, (int)slot, call);
    check_s8(name, got, want, out_n);
  }
  free(x); free(w); free(bias); free(folded); free(mult); free(shift); free(got); free(want);
}

/* --- gemm ------------------------------------------------------------------------------ */

static void test_gemm(const char *label, int m, int k, int n, int extreme, int with_bias) {
  int8_t *a = extreme ? rand_s8((size_t)m * k, -128, -128) : rand_s8((size_t)m * k, -128, 127);
  int8_t *w = extreme ? rand_s8((size_t)n * k, -127, -127) : rand_s8((size_t)n * k, -127, 127);
  int32_t *bias = malloc(sizeof(int32_t) * n), *mult = malloc(sizeof(int32_t) * n);
  int8_t *shift = malloc(n), *got = malloc((size_t)m * n), *want = malloc((size_t)m * n);
  const int a_zp = rnd(-128, 127), out_zp = rnd(-10, 10);
  rand_requant(mult, shift, n);
  for (int j = 0; j < n; j++) {
    int32_t sum = 0;
    for (int i = 0; i < k; i++) sum += w[(size_t)j * k + i];
    bias[j] = (with_bias ? rnd(-5000, 5000) : 0) - a_zp * sum;
  }
  for (int r = 0; r < m; r++) for (int j = 0; j < n; j++) {
    int32_t dot = 0, sum = 0;
    for (int i = 0; i < k; i++) dot += (a[(size_t)r * k + i] - a_zp) * w[(size_t)j * k + i];
    for (int i = 0; i < k; i++) sum += w[(size_t)j * k + i];
    const int32_t acc = (bias[j] + a_zp * sum) + dot; /* the unfolded bias plus TFLite's sum */
    want[(size_t)r * n + j] = (int8_t)clampi(out_zp + ref_requant(acc, mult[j], shift[j]), -128, 127);
  }
  es_gemm_s8(a, w, bias, got, m, k, n, out_zp, mult, shift, -128, 127, 0);
  char name[96];
  snprintf(name, sizeof name, "gemm_s8 %s m=%d k=%d n=%d", label, m, k, n);
  check_s8(name, got, want, (size_t)m * n);
  const int32_t slot = next_pack_slot(); /* packed on the first call, found packed on the second */
  for (int call = 1; call <= 2; call++) {
    memset(got, 0x5a, (size_t)m * n);
    es_gemm_s8(a, w, bias, got, m, k, n, out_zp, mult, shift, -128, 127, slot);
    snprintf(name, sizeof name, "gemm_s8 %s m=%d k=%d n=%d, pack slot %d call %d", label, m, k, n, (int)slot, call);
    check_s8(name, got, want, (size_t)m * n);
  }
  free(a); free(w); free(bias); free(mult); free(shift); free(got); free(want);
}

/* Shapes around every block size of the gemm paths (NEON 4 x 4 tile and 16/8-byte steps;
 * AVX2 panels of 6 rows x 16 columns over int16 pairs, lone rows in 32-byte steps; AVX-512
 * panels of 8 x 32 over groups of 4), with the extreme values that fill int16 pair sums. */
static void sweep_gemm(void) {
  static const int ms[] = {1, 2, 3, 5, 6, 7, 8, 13};
  static const int ks[] = {1, 2, 3, 4, 5, 15, 16, 17, 31, 32, 33, 47, 63, 64, 65, 100};
  static const int ns[] = {1, 3, 4, 5, 8, 9, 15, 16, 17, 33};
  sweep_begin();
  for (size_t mi = 0; mi < sizeof ms / sizeof ms[0]; mi++)
    for (size_t ki = 0; ki < sizeof ks / sizeof ks[0]; ki++)
      for (size_t ni = 0; ni < sizeof ns / sizeof ns[0]; ni++)
        test_gemm("sweep", ms[mi], ks[ki], ns[ni], (mi + ki + ni) % 5 == 0, (mi + ni) % 2);
  sweep_end("gemm_s8 sweep: m 1-13, k 1-100 (odd, around 4/16/32), n 1-33, extreme values in a fifth");
  sweep_begin();
  static const int long_ks[] = {255, 513, 1000, 2047, 2048, 2049, 8191, 8193};
  for (size_t ki = 0; ki < sizeof long_ks / sizeof long_ks[0]; ki++) {
    test_gemm("long", 1, long_ks[ki], 5, ki % 2, 1);
    test_gemm("long", 7, long_ks[ki], 18, ki % 2 == 0, 1);
  }
  sweep_end("gemm_s8 long reductions (255 to 8193: past the AVX-512 and AVX2 panels' limits), 1 and 7 rows");
  sweep_begin();
  /* short rows read in place (K 4 to 16, whole blocks of 8 rows) and past one set of panels */
  static const int short_ks[] = {4, 8, 12, 16};
  for (size_t ki = 0; ki < sizeof short_ks / sizeof short_ks[0]; ki++) {
    test_gemm("short", 24, short_ks[ki], 17, ki % 2, 1);
    test_gemm("short", 29, short_ks[ki], 40, 0, ki % 2);
  }
  test_gemm("sets", 11, 2048, 70, 0, 1);
  test_gemm("sets", 9, 64, 300, 1, 1);
  sweep_end("gemm_s8 short rows (K 4-16, 24 and 29 rows) and more columns than one set of panels");
}

/* Depthwise with every channel count from 1 to 70 (blocks of 16 and 8 and their tails),
 * 3x3 (the interior fast path) and other kernels, strides, padding, dilation, zero points. */
static void sweep_depthwise(void) {
  sweep_begin();
  for (int ch = 1; ch <= 70; ch++) {
    const int variant = ch % 4;
    conv_case c = {"sweep", 1, 5 + ch % 3, 6 + ch % 5, ch, 0, 3, 3, 1 + (variant == 1), 1 + (variant == 1),
                   variant != 2, variant != 2, variant != 2, variant == 0 ? 2 : variant != 2,
                   1, 1, 0, 1, ch % 3 != 0, variant == 3 ? -20 : -128, variant == 3 ? 50 : 127, ch % 11 == 0};
    if (ch % 9 == 0) c.kh = 5, c.kw = 5, c.pt = c.pl = c.pb = c.pr = 2;
    if (ch % 13 == 0) c.kh = 1, c.kw = 1, c.pt = c.pl = c.pb = c.pr = 0;
    if (ch % 7 == 0) c.dh = c.dw = 2, c.h += 4, c.w += 4;
    if (ch % 10 == 0) c.kh = 3, c.kw = 1, c.pr = 0, c.pl = 0;
    if (ch % 17 == 0) c.n = 2;
    test_conv(&c);
  }
  /* rows as flat runs of bytes (AVX-512 VNNI, stride 1 across): channel counts with 1 to 8
   * versions of the weights per 64 bytes, 5x5 (7 groups of 4 taps), dilation, stride 2 down,
   * asymmetric padding, two images, rows wider than one vector */
  static const conv_case flat[] = {
      {"flat kws", 1, 25, 5, 64, 0, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, -128, 127, 0},
      {"flat c128", 2, 6, 7, 128, 0, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, -128, 127, 0},
      {"flat c96", 1, 9, 11, 96, 0, 3, 3, 2, 1, 0, 1, 1, 1, 1, 1, 1, 1, 0, -128, 127, 0},
      {"flat c512", 1, 6, 6, 512, 0, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, -10, 90, 0},
      {"flat c24 5x5", 1, 14, 13, 24, 0, 5, 5, 1, 1, 2, 2, 2, 2, 1, 1, 1, 1, 1, -128, 127, 0},
      {"flat c8 dilated", 1, 20, 19, 8, 0, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2, 1, 1, 1, -128, 127, 1},
      {"flat c3 wide", 1, 5, 90, 3, 0, 3, 3, 1, 1, 0, 2, 1, 0, 1, 1, 1, 1, 1, -128, 127, 0},
      {"flat c40 3x1", 1, 12, 9, 40, 0, 3, 1, 1, 1, 1, 0, 1, 0, 1, 1, 1, 1, 1, -128, 127, 0},
  };
  for (size_t i = 0; i < sizeof flat / sizeof flat[0]; i++) test_conv(&flat[i]);
  sweep_end("depthwise_s8 sweep: channels 1-70, kernels 1x1/3x1/3x3/5x5, strides 1-2, padding, dilation 2, clamps; flat rows of 3-512 channels");
}

/* Convolutions around the patch-GEMM blocks: few and many pixels, K odd and past the
 * AVX2 panel's limit, groups, strides, padding. */
static void sweep_conv(void) {
  sweep_begin();
  for (int ic = 1; ic <= 20; ic += 3)
    for (int oc = 1; oc <= 40; oc += 13) {
      const int k = 1 + 2 * ((ic + oc) % 3); /* 1, 3 or 5 */
      const int s = 1 + (ic + oc) % 2, pad = k / 2 * ((ic * oc) % 2);
      conv_case c = {"sweep", 1, k + ic % 5, k + oc % 7, ic, oc, k, k, s, s, pad, pad, pad, pad, 1, 1, 1, 0,
                     oc % 2, oc % 3 == 0 ? -30 : -128, 127, (ic + oc) % 9 == 0};
      if (ic % 2 == 0 && oc % 2 == 0) c.groups = 2, c.ic = ic, c.oc = oc;
      test_conv(&c);
    }
  /* K = 3 * 3 * 1000 = 9000: beyond PANEL2_KMAX, the tile path on AVX2 */
  const conv_case longk = {"sweep", 1, 3, 2, 1000, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, -128, 127, 0};
  test_conv(&longk);
  /* one output pixel, and a 1x1 output of a full-size kernel (fully connected as conv) */
  const conv_case one = {"sweep", 1, 4, 4, 7, 19, 4, 4, 1, 1, 0, 0, 0, 0, 1, 1, 1, 0, 1, -128, 127, 0};
  test_conv(&one);
  /* more output channels than one set of VNNI panels holds (224 at K = 576, 64 at K = 2048),
   * two images, and a 10x4 kernel over one channel (a 4-byte kernel row) */
  const conv_case sets = {"sweep", 2, 5, 6, 64, 300, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, -128, 127, 0};
  test_conv(&sets);
  const conv_case wide_k = {"sweep", 1, 3, 4, 2048, 70, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 0, 1, -128, 127, 0};
  test_conv(&wide_k);
  const conv_case kws = {"sweep", 1, 21, 10, 1, 20, 10, 4, 2, 2, 4, 1, 5, 1, 1, 1, 1, 0, 1, -128, 127, 0};
  test_conv(&kws);
  /* patch rows read in place from the padded copy: dilation (a tap per segment), groups with
   * dilation, stride 2 with 3 channels (9-byte kernel rows padded to 12), and an input whose
   * padded copy is past the budget (the gather path) */
  static const conv_case in_place[] = {
      {"sweep dilated", 1, 9, 10, 6, 10, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2, 1, 0, 1, -128, 127, 0},
      {"sweep groups dilated", 2, 8, 9, 8, 12, 3, 3, 1, 2, 1, 2, 1, 2, 1, 2, 2, 0, 1, -128, 127, 0},
      {"sweep rgb s2", 1, 17, 16, 3, 8, 3, 3, 2, 2, 0, 0, 1, 1, 1, 1, 1, 0, 1, -128, 127, 1},
      {"sweep wide input", 1, 190, 190, 8, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, -128, 127, 0},
  };
  for (size_t i = 0; i < sizeof in_place / sizeof in_place[0]; i++) test_conv(&in_place[i]);
  sweep_end("conv2d_s8 sweep: 1-19 input and 1-40 output channels, kernels 1/3/5, strides 1-2, padding, groups 2, K=9000, one pixel, 300 and 70 output channels, a 10x4 kernel, dilation, groups with dilation, past the padded copy's budget");
}

/* --- elementwise, pools, reductions ----------------------------------------------------- */

static void test_add(void) {
  const int n = 1000;
  int8_t *a = rand_s8(n, -128, 127), *b = rand_s8(n, -128, 127), *got = malloc(n), *want = malloc(n);
  const int32_t a_zp = -3, b_zp = 17, out_zp = -9, am = 1518500250, as = -1, bm = 1207959552, bs = -2, om = 1717986918, os = -18;
  for (int i = 0; i < n; i++) {
    int32_t sa = ref_requant((a[i] - a_zp) * (1 << 20), am, as), sb = ref_requant((b[i] - b_zp) * (1 << 20), bm, bs);
    want[i] = (int8_t)clampi(out_zp + ref_requant(sa + sb, om, os), -100, 120);
  }
  es_add_s8(a, a_zp, am, as, b, b_zp, bm, bs, got, n, out_zp, om, os, -100, 120);
  check_s8("add_s8 1000 elements, clamp [-100, 120]", got, want, n);
  memcpy(got, a, n);
  es_add_s8(got, a_zp, am, as, b, b_zp, bm, bs, got, n, out_zp, om, os, -100, 120);
  check_s8("add_s8 in place", got, want, n);
  es_add_s8(a, a_zp, am, as, b, b_zp, bm, bs, got, 37, out_zp, om, os, -100, 120);
  check_s8("add_s8 37 elements (vector steps and a tail)", got, want, 37);
  free(a); free(b); free(got); free(want);
  /* every code of each input through each kind of input rescale: the multiplier TFLite gives
   * the input of the larger scale (1/2: 2^30, shift 0), others with shifts 0 to -31, the
   * largest multiplier, and positive shifts */
  static const int32_t mults[] = {1 << 30, 1 << 30, 1518500250, 2147483647, 1207959552, 1073741825, 1900000000, 1 << 30};
  static const int32_t shifts[] = {0, -3, 0, -1, -7, -31, 2, 1};
  int8_t x[256], y[256], got2[256], want2[256];
  for (int i = 0; i < 256; i++) x[i] = (int8_t)(i - 128), y[i] = (int8_t)(127 - (i * 37) % 256);
  sweep_begin();
  for (int ia = 0; ia < 8; ia++)
    for (int ib = 0; ib < 8; ib++) {
      const int32_t za = rnd(-128, 127), zb = rnd(-128, 127), zo = rnd(-20, 20), mo = rnd(1 << 30, 2147483647), so = rnd(-24, -16);
      for (int i = 0; i < 256; i++) {
        const int32_t sa = ref_requant((x[i] - za) * (1 << 20), mults[ia], shifts[ia]);
        const int32_t sb = ref_requant((y[i] - zb) * (1 << 20), mults[ib], shifts[ib]);
        want2[i] = (int8_t)clampi(zo + ref_requant(sa + sb, mo, so), -128, 127);
      }
      es_add_s8(x, za, mults[ia], shifts[ia], y, zb, mults[ib], shifts[ib], got2, 256, zo, mo, so, -128, 127);
      check_s8("add_s8 rescales", got2, want2, 256);
    }
  sweep_end("add_s8 sweep: all 256 codes through 8 x 8 input rescales (1/2, shifts 0 to -31 and positive, the largest multiplier)");
}

static void test_pools(void) {
  const int h = 9, w = 8, c = 70, k = 3, s = 2, p = 1; /* 70 channels: a chunk of 64 and a tail */
  const int oh = out_size(h, k, s, p, p, 1), ow = out_size(w, k, s, p, p, 1);
  int8_t *x = rand_s8((size_t)h * w * c, -128, 127), *got = malloc((size_t)oh * ow * c), *want = malloc((size_t)oh * ow * c);
  es_shape4 is = {1, h, w, c}, os = {1, oh, ow, c};
  const int zp = 7;
  for (int variant = 0; variant < 4; variant++) {
    for (int oy = 0; oy < oh; oy++) for (int ox = 0; ox < ow; ox++) for (int ch = 0; ch < c; ch++) {
      int32_t best = -128, sum = 0, valid = 0;
      for (int ky = 0; ky < k; ky++) for (int kx = 0; kx < k; kx++) {
        int iy = oy * s - p + ky, ix = ox * s - p + kx;
        if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
        int v = x[((size_t)iy * w + ix) * c + ch];
        best = v > best ? v : best;
        sum += v - zp;
        valid++;
      }
      int y0 = oy * s - p, x0 = ox * s - p;
      int y1 = y0 + k < h + p ? y0 + k : h + p, x1 = x0 + k < w + p ? x0 + k : w + p;
      int divisor = variant == 1 ? valid : variant == 2 ? (y1 - y0) * (x1 - x0) : 4;
      double q = (double)sum / divisor;
      int32_t avg = (int32_t)(q < 0 ? -floor(-q + 0.5) : floor(q + 0.5));
      want[((size_t)oy * ow + ox) * c + ch] = (int8_t)(variant == 0 ? clampi(best, -50, 100) : clampi(zp + avg, -128, 127));
    }
    if (variant == 0) es_max_pool2d_s8(x, is, got, os, k, k, s, s, p, p, 1, 1, -50, 100);
    else es_avg_pool2d_s8(x, is, got, os, k, k, s, s, p, p, p, p, variant == 2, variant == 3 ? 4 : 0, zp, -128, 127);
    static const char *names[] = {"max_pool2d_s8 3x3 s2 p1, clamp", "avg_pool2d_s8 3x3 s2 p1 exclude pad",
                                  "avg_pool2d_s8 3x3 s2 p1 include pad", "avg_pool2d_s8 divisor override 4"};
    check_s8(names[variant], got, want, (size_t)oh * ow * c);
  }
  free(x); free(got); free(want);
}

/* max_pool2d_s8 against a plain reference: channel counts that take the 32- and 8-code
 * vectors and the element tail, dilation, and windows wholly in the padding (act_min). */
static void test_max_pool_shapes(void) {
  static const struct { int h, w, c, k, s, p, d, lo, hi; } cases[] = {
      {7, 6, 43, 3, 1, 1, 1, -128, 127}, {5, 5, 24, 2, 1, 2, 1, -20, 127}, {9, 8, 11, 3, 2, 2, 2, -128, 60}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const int h = cases[i].h, w = cases[i].w, c = cases[i].c, k = cases[i].k, s = cases[i].s, p = cases[i].p, d = cases[i].d;
    const int oh = (h + 2 * p - d * (k - 1) - 1) / s + 1, ow = (w + 2 * p - d * (k - 1) - 1) / s + 1;
    int8_t *x = rand_s8((size_t)h * w * c, -128, 127), *got = malloc((size_t)oh * ow * c), *want = malloc((size_t)oh * ow * c);
    for (int oy = 0; oy < oh; oy++) for (int ox = 0; ox < ow; ox++) for (int ch = 0; ch < c; ch++) {
      int best = -129;
      for (int ky = 0; ky < k; ky++) for (int kx = 0; kx < k; kx++) {
        const int iy = oy * s - p + ky * d, ix = ox * s - p + kx * d;
        if (iy >= 0 && iy < h && ix >= 0 && ix < w && x[((size_t)iy * w + ix) * c + ch] > best) best = x[((size_t)iy * w + ix) * c + ch];
      }
      want[((size_t)oy * ow + ox) * c + ch] = (int8_t)(best == -129 ? cases[i].lo : clampi(best, cases[i].lo, cases[i].hi));
    }
    es_max_pool2d_s8(x, (es_shape4){1, h, w, c}, got, (es_shape4){1, oh, ow, c}, k, k, s, s, p, p, d, d, cases[i].lo, cases[i].hi);
    char name[96];
    snprintf(name, sizeof name, "max_pool2d_s8 %dx%dx%d k%d s%d p%d d%d", h, w, c, k, s, p, d);
    check_s8(name, got, want, (size_t)oh * ow * c);
    free(x); free(got); free(want);
  }
}

/* reduce_max_s8 / reduce_min_s8: codes compared as they are, every code in some column. */
static void test_reduce_extremes_s8(void) {
  const int outer = 3, reduce = 86, inner = 5;
  const size_t n = (size_t)outer * reduce * inner;
  int8_t *x = malloc(n), *got = malloc(outer * inner), *want_max = malloc(outer * inner), *want_min = malloc(outer * inner);
  for (size_t k = 0; k < n; k++) x[k] = (int8_t)((int)(k * 37 % 256) - 128);
  for (int o = 0; o < outer; o++) for (int i = 0; i < inner; i++) {
    int hi = -129, lo = 128;
    for (int r = 0; r < reduce; r++) {
      const int v = x[((size_t)o * reduce + r) * inner + i];
      hi = v > hi ? v : hi, lo = v < lo ? v : lo;
    }
    want_max[o * inner + i] = (int8_t)hi, want_min[o * inner + i] = (int8_t)lo;
  }
  es_reduce_max_s8(x, got, outer, reduce, inner);
  check_s8("reduce_max_s8 [3][86][5]", got, want_max, (size_t)outer * inner);
  es_reduce_min_s8(x, got, outer, reduce, inner);
  check_s8("reduce_min_s8 [3][86][5]", got, want_min, (size_t)outer * inner);
  free(x); free(got); free(want_max); free(want_min);
}

/* strided_copy_s8: a reversed, stepped slice of every code. */
static void test_strided_copy_s8(void) {
  int8_t x[256], got[128], want[128];
  for (int k = 0; k < 256; k++) x[k] = (int8_t)(k - 128);
  for (int r = 0; r < 8; r++)
    for (int c = 0; c < 16; c++) want[r * 16 + c] = x[(2 * r + 1) * 16 + (15 - c)];
  es_strided_copy_s8(x, got, 2, (const int32_t[]){8, 16}, (const int32_t[]){32, -1}, 16 + 15);
  check_s8("strided_copy_s8 rows 1::2, columns reversed", got, want, 128);

  /* Transposes (the last axis strided, another contiguous: 8 x 8 blocks with rows and columns
   * left over), some with a reversed or repeated (stride 0) axis besides: 300 seeded walks
   * against a plain odometer. */
  int failures = 0;
  for (int t = 0; t < 300; t++) {
    const int rank = rnd(2, 5);
    int32_t shape[5], in_shape[5], strides[5], perm[5], in_stride[5];
    size_t n_in = 1, n_out = 1;
    for (int d = 0; d < rank; d++) in_shape[d] = rnd(1, d == rank - 1 ? 37 : 20), n_in *= (size_t)in_shape[d];
    for (int d = rank - 1, s = 1; d >= 0; d--) in_stride[d] = s, s *= in_shape[d];
    for (int d = 0; d < rank; d++) perm[d] = d;
    for (int d = rank - 1; d > 0; d--) { const int j = rnd(0, d), p = perm[d]; perm[d] = perm[j], perm[j] = p; }
    int32_t offset = 0;
    for (int d = 0; d < rank; d++) {
      shape[d] = in_shape[perm[d]], strides[d] = in_stride[perm[d]], n_out *= (size_t)shape[d];
      const int kind = rnd(0, 7);
      if (kind == 0 && strides[d] != 1) { offset += (shape[d] - 1) * strides[d]; strides[d] = -strides[d]; }
      else if (kind == 1 && strides[d] != 1) strides[d] = 0;
    }
    int8_t *src = rand_s8(n_in, -128, 127), *dst = malloc(n_out), *ref = malloc(n_out);
    int32_t index[5] = {0};
    for (size_t k = 0; k < n_out; k++) {
      ptrdiff_t at = offset;
      for (int d = 0; d < rank; d++) at += (ptrdiff_t)index[d] * strides[d];
      ref[k] = src[at];
      for (int d = rank - 1; d >= 0 && ++index[d] == shape[d]; d--) index[d] = 0;
    }
    es_strided_copy_s8(src, dst, rank, shape, strides, offset);
    if (memcmp(dst, ref, n_out) != 0) failures++;
    free(src), free(dst), free(ref);
  }
  check_s8("strided_copy_s8 300 transposes (reversed and repeated axes among them)", (const int8_t[]){(int8_t)failures},
           (const int8_t[]){0}, 1);
}

/* gather_s8: rows of every code, one index repeated. */
static void test_gather_s8(void) {
  int8_t x[256], got[3 * 4 * 8], want[3 * 4 * 8];
  for (int k = 0; k < 256; k++) x[k] = (int8_t)(k - 128);
  const int32_t indices[4] = {7, 0, 7, 3}; /* x as [4][8][8] minus its last [8][8]: outer 3, axis 8, inner 8 */
  for (int o = 0; o < 3; o++)
    for (int k = 0; k < 4; k++)
      for (int i = 0; i < 8; i++) want[(o * 4 + k) * 8 + i] = x[(o * 8 + indices[k]) * 8 + i];
  es_gather_s8(x, got, 3, 8, 8, indices, 4);
  check_s8("gather_s8 [3][8][8] indices 7 0 7 3", got, want, sizeof want);
}

static void test_mean_concat_clamp_quantize(void) {
  const int outer = 2, reduce = 49, inner = 37;
  int8_t *x = rand_s8((size_t)outer * reduce * inner, -128, 127), *got = malloc(outer * inner), *want = malloc(outer * inner);
  const int32_t in_zp = -5, out_zp = 3, m = 1402438301, sh = -5;
  for (int o = 0; o < outer; o++) for (int i = 0; i < inner; i++) {
    int32_t sum = 0;
    for (int r = 0; r < reduce; r++) sum += x[((size_t)o * reduce + r) * inner + i] - in_zp;
    want[o * inner + i] = (int8_t)clampi(out_zp + ref_requant(sum, m, sh), -128, 127);
  }
  es_mean_s8(x, got, outer, reduce, inner, in_zp, out_zp, m, sh);
  check_s8("mean_s8 [2][49][37]", got, want, (size_t)outer * inner);

  int8_t *p0 = rand_s8(2 * 3 * 4, -128, 127), *p1 = rand_s8(2 * 5 * 4, -128, 127);
  int8_t cat[2 * 8 * 4], cat_want[2 * 8 * 4];
  const int32_t zps[2] = {0, -20}, mults[2] = {0, 1610612736}, shifts[2] = {0, 1};
  for (int o = 0; o < 2; o++) {
    memcpy(cat_want + o * 32, p0 + o * 12, 12);
    for (int j = 0; j < 20; j++) cat_want[o * 32 + 12 + j] = (int8_t)clampi(4 + ref_requant(p1[o * 20 + j] + 20, mults[1], shifts[1]), -128, 127);
  }
  es_concat_s8((const int8_t *const[]){p0, p1}, (const int32_t[]){3, 5}, 2, cat, 2, 4, zps, mults, shifts, 4);
  check_s8("concat_s8 copy + requantized piece (scale ratio 1.5)", cat, cat_want, sizeof cat);
  {
    /* Pieces large enough to be requantized through a table (ShuffleNetV2's NHWC concats):
     * every code of both requantized inputs appears. */
    enum { PIXELS = 300, C0 = 24, C1 = 24, C2 = 5 };
    int8_t *q0 = rand_s8(PIXELS * C0, -128, 127), *q1 = rand_s8(PIXELS * C1, -128, 127), *q2 = rand_s8(PIXELS * C2, -128, 127);
    for (int v = 0; v < 256; v++) q0[v] = q1[PIXELS * C1 - 1 - v] = (int8_t)(v - 128);
    int8_t *big = malloc(PIXELS * (C0 + C1 + C2)), *big_want = malloc(PIXELS * (C0 + C1 + C2));
    const int32_t bzps[3] = {-128, 7, 0}, bmults[3] = {1892227183, 1389631006, 0}, bshifts[3] = {0, -1, 0};
    for (int p = 0; p < PIXELS; p++) {
      int8_t *row = big_want + p * (C0 + C1 + C2);
      for (int j = 0; j < C0; j++) row[j] = (int8_t)clampi(-3 + ref_requant(q0[p * C0 + j] + 128, bmults[0], bshifts[0]), -128, 127);
      for (int j = 0; j < C1; j++) row[C0 + j] = (int8_t)clampi(-3 + ref_requant(q1[p * C1 + j] - 7, bmults[1], bshifts[1]), -128, 127);
      memcpy(row + C0 + C1, q2 + p * C2, C2);
    }
    es_concat_s8((const int8_t *const[]){q0, q1, q2}, (const int32_t[]){C0, C1, C2}, 3, big, PIXELS, 1, bzps, bmults,
                 bshifts, -3);
    check_s8("concat_s8 [300][24 + 24 + 5], two pieces requantized through tables", big, big_want, PIXELS * (C0 + C1 + C2));
    free(q0), free(q1), free(q2), free(big), free(big_want);
  }

  int8_t cl[256], cl_want[256], all[256];
  for (int i = 0; i < 256; i++) { all[i] = (int8_t)(i - 128); cl_want[i] = (int8_t)clampi(i - 128, -7, 90); }
  es_clamp_s8(all, cl, 256, -7, 90);
  check_s8("clamp_s8 every value", cl, cl_want, 256);

  /* leaky_relu_s8 on every input code, as TFLite's reference: identity branch for x - zp >= 0,
   * alpha branch below; multipliers as QuantizeMultiplier makes them (in/out scale 0.05/0.04,
   * alpha 0.1: identity 1.25 = 0.625 * 2^1, alpha 0.125 = 0.5 * 2^-2) and others. */
  int8_t lr[256], lr_want[256];
  const int32_t lr_cases[3][6] = {{-5, 7, 1342177280, 1, 1 << 30, -2},
                                  {12, -30, 1518500250, 0, 1288490189, -4},
                                  {-128, 127, 2147483647, -1, 1073741825, -31}};
  for (int c = 0; c < 3; c++) {
    const int32_t *k = lr_cases[c];
    for (int i = 0; i < 256; i++) {
      const int32_t v = all[i] - k[0];
      lr_want[i] = (int8_t)clampi(k[1] + (v >= 0 ? ref_requant(v, k[2], k[3]) : ref_requant(v, k[4], k[5])), -128, 127);
    }
    es_leaky_relu_s8(all, lr, 256, k[0], k[1], k[2], k[3], k[4], k[5]);
    char lr_name[80];
    snprintf(lr_name, sizeof lr_name, "leaky_relu_s8 every value (in_zp %d, out_zp %d)", (int)k[0], (int)k[1]);
    check_s8(lr_name, lr, lr_want, 256);
  }
  memcpy(lr, all, sizeof lr);
  es_leaky_relu_s8(lr, lr, 256, -5, 7, 1342177280, 1, 1 << 30, -2);
  for (int i = 0; i < 256; i++) { const int32_t v = all[i] + 5; lr_want[i] = (int8_t)clampi(7 + (v >= 0 ? ref_requant(v, 1342177280, 1) : ref_requant(v, 1 << 30, -2)), -128, 127); }
  check_s8("leaky_relu_s8 in place", lr, lr_want, 256);

  float f[9] = {-1000.0f, -0.25f, 0.25f, 0.75f, 1.25f, 2.5f, 1e9f, NAN, -2.5f};
  int8_t q[9];
  const int8_t q_want[9] = {-128, 9, 11, 12, 13, 15, 127, 10, 5};
  es_quantize_s8(f, q, 9, 2.0f, 10); /* x*2 rounded half away from zero, + 10 */
  check_s8("quantize_s8 rounding half away, saturation, NaN", q, q_want, 9);
  /* Long enough for the vector paths: halves, near-halves, infinities, NaN, large values. */
  enum { QN = 1003 };
  float fq[QN];
  int8_t qq[QN], qq_want[QN];
  static const float special[] = {0.25f, 0.5f, -0.5f, 1.5f, -1.5f, 2.5f, -2.5f, 0.49999997f, -0.49999997f,
                                  63.5f, -64.5f, 1e30f, -1e30f, INFINITY, -INFINITY, NAN, -0.0f, 1023.5f, -1025.5f};
  for (int i = 0; i < QN; i++) {
    fq[i] = i < (int)(sizeof special / sizeof special[0]) ? special[i] / 0.75f
                                                           : (float)rnd(-400000, 400000) / (i % 3 ? 1000.0f : 2.0f);
    float v = fq[i] * 0.75f;
    if (v != v) v = 0.0f;
    v = v < -1024.0f ? -1024.0f : v > 1024.0f ? 1024.0f : v;
    qq_want[i] = (int8_t)clampi((int32_t)roundf(v) - 3, -128, 127);
  }
  es_quantize_s8(fq, qq, QN, 0.75f, -3);
  check_s8("quantize_s8 1003 values (halves, infinities, NaN)", qq, qq_want, QN);
  float d[3];
  es_dequantize_s8((const int8_t[]){-128, 10, 127}, d, 3, 0.5f, 10);
  t_expect("dequantize_s8", d[0] == -69.0f && d[1] == 0.0f && d[2] == 58.5f, "scale * (q - zp)");
  free(x); free(got); free(want); free(p0); free(p1);
}

/* abs, neg, maximum, minimum and prelu on every input code, against TFLite's integer
 * reference arithmetic (elementwise.cc AbsEval, integer_ops/neg.h, maximum_minimum.h with the
 * requantization edgespec adds for calibrated models, prelu.h BroadcastPrelu4DSlow). */
static void test_activations_s8(void) {
  int8_t all[256], got[256], want[256];
  for (int i = 0; i < 256; i++) all[i] = (int8_t)(i - 128);
  char name[96];

  /* abs: same scale (no rescale, mult 0), and rescaled by 0.8 = 0.8 * 2^0 and by 3.5 = 0.875 * 2^2 */
  const int32_t abs_cases[3][4] = {{-7, -128, 0, 0}, {10, -100, 1717986918, 0}, {-128, -128, 1879048192, 2}};
  for (int c = 0; c < 3; c++) {
    const int32_t *k = abs_cases[c];
    for (int i = 0; i < 256; i++) {
      const int32_t v = abs(all[i] - k[0]);
      want[i] = (int8_t)clampi(k[1] + (k[2] == 0 ? v : ref_requant(v, k[2], k[3])), -128, 127);
    }
    es_abs_s8(all, got, 256, k[0], k[1], k[2], k[3]);
    snprintf(name, sizeof name, "abs_s8 every value (in_zp %d, out_zp %d, mult %d)", (int)k[0], (int)k[1], (int)k[2]);
    check_s8(name, got, want, 256);
  }
  memcpy(got, all, sizeof got);
  es_abs_s8(got, got, 256, 10, -100, 1717986918, 0);
  for (int i = 0; i < 256; i++) want[i] = (int8_t)clampi(-100 + ref_requant(abs(all[i] - 10), 1717986918, 0), -128, 127);
  check_s8("abs_s8 in place", got, want, 256);

  /* neg: out = in_zp + out_zp - q, saturated (zero point sums from -256 to 254) */
  const int32_t zp_sums[4] = {0, -1, 254, -256};
  for (int c = 0; c < 4; c++) {
    for (int i = 0; i < 256; i++) want[i] = (int8_t)clampi(zp_sums[c] - all[i], -128, 127);
    memcpy(got, all, sizeof got);
    es_neg_s8(got, got, 256, zp_sums[c]);
    snprintf(name, sizeof name, "neg_s8 every value in place (zero point sum %d)", (int)zp_sums[c]);
    check_s8(name, got, want, 256);
  }

  /* lut: every code through a table that is not its own inverse, out of place and in place */
  int8_t table[256];
  for (int i = 0; i < 256; i++) table[i] = (int8_t)((i * 37 + 11) & 255);
  for (int i = 0; i < 256; i++) want[i] = table[all[i] + 128];
  es_lut_s8(all, got, 256, table);
  check_s8("lut_s8 every code", got, want, 256);
  memcpy(got, all, sizeof got);
  es_lut_s8(got, got, 256, table);
  check_s8("lut_s8 every code in place", got, want, 256);

  /* mul: every pair of codes, b broadcast along rows, then a [2][3] x [1][3] broadcast with a clamp */
  {
    int8_t *prod = malloc(256 * 256), *prod_want = malloc(256 * 256);
    const int32_t shape[4] = {1, 1, 256, 256}, a_str[4] = {0, 0, 1, 0}, b_str[4] = {0, 0, 0, 1};
    const int32_t mul_cases[3][3] = {{3, -7, 5}, {1895825408, 1073741824, 1288490189}, {-9, -2, 0}}; /* zp a, b, out by case; mult; shift */
    for (int c = 0; c < 3; c++) {
      const int32_t a_zp = mul_cases[0][c], b_zp = mul_cases[0][(c + 1) % 3], out_zp = mul_cases[0][(c + 2) % 3];
      const int32_t mult = mul_cases[1][c], shift = mul_cases[2][c];
      for (int i = 0; i < 256; i++)
        for (int j = 0; j < 256; j++)
          prod_want[i * 256 + j] = (int8_t)clampi(out_zp + ref_requant((all[i] - a_zp) * (all[j] - b_zp), mult, shift), -128, 127);
      es_mul_s8(all, a_str, a_zp, all, b_str, b_zp, prod, shape, out_zp, mult, shift, -128, 127);
      snprintf(name, sizeof name, "mul_s8 every pair of codes (mult %d, shift %d)", (int)mult, (int)shift);
      check_s8(name, prod, prod_want, 256 * 256);
    }
    const int8_t x[6] = {-128, -1, 0, 1, 100, 127}, gate[3] = {-128, 0, 127};
    const int32_t x_shape[4] = {1, 1, 2, 3}, x_str[4] = {0, 0, 3, 1}, g_str[4] = {0, 0, 0, 1};
    int8_t small[6], small_want[6];
    for (int i = 0; i < 6; i++)
      small_want[i] = (int8_t)clampi(4 + ref_requant((x[i] + 2) * (gate[i % 3] + 128), 1395864371, -8), -20, 90);
    es_mul_s8(x, x_str, -2, gate, g_str, -128, small, x_shape, 4, 1395864371, -8, -20, 90);
    check_s8("mul_s8 channel gate broadcast, clamped", small, small_want, 6);
    free(prod);
    free(prod_want);
  }

  /* sub: every pair of codes (TFLite's 20-bit scheme; scales 0.05 and 0.03 to 0.04), then a row broadcast with a clamp */
  {
    int8_t *diff = malloc(256 * 256), *diff_want = malloc(256 * 256);
    const int32_t shape[4] = {1, 1, 256, 256}, a_str[4] = {0, 0, 1, 0}, b_str[4] = {0, 0, 0, 1};
    for (int i = 0; i < 256; i++)
      for (int j = 0; j < 256; j++) {
        const int32_t sa = ref_requant((all[i] - 7) * (1 << 20), 1073741824, 0);
        const int32_t sb = ref_requant((all[j] + 3) * (1 << 20), 1288490189, -1);
        diff_want[i * 256 + j] = (int8_t)clampi(-5 + ref_requant(sa - sb, 1342177280, -18), -128, 127);
      }
    es_sub_s8(all, a_str, 7, 1073741824, 0, all, b_str, -3, 1288490189, -1, diff, shape, -5, 1342177280, -18, -128, 127);
    check_s8("sub_s8 every pair of codes", diff, diff_want, 256 * 256);
    const int32_t row_shape[4] = {1, 1, 4, 64}, row_a[4] = {0, 0, 64, 1}, row_b[4] = {0, 0, 0, 1};
    for (int r = 0; r < 4; r++)
      for (int k = 0; k < 64; k++) {
        const int32_t sa = ref_requant((all[r * 64 + k] + 128) * (1 << 20), 1431655765, -1);
        const int32_t sb = ref_requant((all[k + 100] - 0) * (1 << 20), 1073741824, 0);
        diff_want[r * 64 + k] = (int8_t)clampi(10 + ref_requant(sa - sb, 1717986918, -19), -50, 60);
      }
    es_sub_s8(all, row_a, -128, 1431655765, -1, all + 100, row_b, 0, 1073741824, 0, diff, row_shape, 10, 1717986918, -19, -50, 60);
    check_s8("sub_s8 row broadcast, clamped", diff, diff_want, 256);
    free(diff);
    free(diff_want);
  }

  /* add with broadcast strides (a constant bias row, a scalar): every pair of codes, then a row broadcast with a clamp,
   * against TFLite's ADD written plainly */
  {
    int8_t *sum = malloc(256 * 256), *sum_want = malloc(256 * 256);
    const int32_t shape[4] = {1, 1, 256, 256}, a_str[4] = {0, 0, 1, 0}, b_str[4] = {0, 0, 0, 1};
    for (int i = 0; i < 256; i++)
      for (int j = 0; j < 256; j++) {
        const int32_t sa = ref_requant((all[i] - 7) * (1 << 20), 1073741824, 0);
        const int32_t sb = ref_requant((all[j] + 3) * (1 << 20), 1288490189, -1);
        sum_want[i * 256 + j] = (int8_t)clampi(-5 + ref_requant(sa + sb, 1342177280, -18), -128, 127);
      }
    es_add_broadcast_s8(all, a_str, 7, 1073741824, 0, all, b_str, -3, 1288490189, -1, sum, shape, -5, 1342177280, -18, -128, 127);
    check_s8("add_broadcast_s8 every pair of codes", sum, sum_want, 256 * 256);
    const int32_t row_shape[4] = {1, 1, 4, 64}, row_a[4] = {0, 0, 64, 1}, row_b[4] = {0, 0, 0, 1};
    for (int r = 0; r < 4; r++)
      for (int k = 0; k < 64; k++) {
        const int32_t sa = ref_requant((all[r * 64 + k] + 128) * (1 << 20), 1431655765, -1);
        const int32_t sb = ref_requant((all[k + 100] - 0) * (1 << 20), 1073741824, 0);
        sum_want[r * 64 + k] = (int8_t)clampi(10 + ref_requant(sa + sb, 1717986918, -19), -50, 60);
      }
    es_add_broadcast_s8(all, row_a, -128, 1431655765, -1, all + 100, row_b, 0, 1073741824, 0, sum, row_shape, 10, 1717986918, -19, -50, 60);
    check_s8("add_broadcast_s8 bias row broadcast, clamped", sum, sum_want, 256);
    const int8_t one = 127;
    const int32_t one_str[4] = {0, 0, 0, 0};
    for (int k = 0; k < 256; k++) {
      const int32_t sa = ref_requant((one + 128) * (1 << 20), 1073741824, 0);
      const int32_t sb = ref_requant((all[k] + 128) * (1 << 20), 1073741824, 0);
      sum_want[k] = (int8_t)clampi(-47 + ref_requant(sa + sb, 1090519040, -19), -128, 127);
    }
    es_add_broadcast_s8(&one, one_str, -128, 1073741824, 0, all, b_str, -128, 1073741824, 0, sum, (const int32_t[4]){1, 1, 1, 256}, -47, 1090519040, -19, -128, 127);
    check_s8("add_broadcast_s8 scalar constant", sum, sum_want, 256);
    free(sum);
    free(sum_want);
  }

  /* argmax / argmin on codes: every code ascending and descending, then ties (first, or last when asked) across inner columns */
  {
    int8_t col[2 * 256];
    for (int i = 0; i < 256; i++) {
      col[i] = all[i];
      col[256 + i] = all[255 - i];
    }
    float idx[2];
    es_argmax_s8(col, idx, 2, 256, 1, 0);
    t_expect("argmax_s8 every code, both orders", idx[0] == 255.0f && idx[1] == 0.0f, "");
    es_argmin_s8(col, idx, 2, 256, 1, 0);
    t_expect("argmin_s8 every code, both orders", idx[0] == 0.0f && idx[1] == 255.0f, "");
    const int8_t ties[6] = {3, -1, 3, 5, -1, 5}; /* [1][3][2]: columns {3, 3, -1} and {-1, 5, 5} */
    float first[2], last[2], low[2];
    es_argmax_s8(ties, first, 1, 3, 2, 0);
    es_argmax_s8(ties, last, 1, 3, 2, 1);
    es_argmin_s8(ties, low, 1, 3, 2, 0);
    t_expect("argmax_s8 ties: first, or last", first[0] == 0.0f && first[1] == 1.0f && last[0] == 1.0f && last[1] == 2.0f, "");
    t_expect("argmin_s8 along a middle axis", low[0] == 2.0f && low[1] == 0.0f, "");
  }

  /* softmax: rows of every code and of a few, along the last axis and along a middle axis (inner 2),
   * against the same float arithmetic written plainly */
  {
    float sm_table[256];
    for (int d = 0; d <= 255; d++) sm_table[255 - d] = expf(-0.0471f * (float)d);
    int8_t sm_in[512], sm_got[512], sm_want[512];
    for (int i = 0; i < 512; i++) sm_in[i] = (int8_t)((i * 77 + 5) & 255);
    memcpy(sm_in, all, 256);
    const int32_t sm_cases[3][3] = {{1, 256, 1}, {32, 16, 1}, {4, 64, 2}}; /* outer, axis, inner */
    for (int c = 0; c < 3; c++) {
      const int32_t outer = sm_cases[c][0], axis = sm_cases[c][1], inner = sm_cases[c][2];
      for (int o = 0; o < outer; o++)
        for (int i = 0; i < inner; i++) {
          const int8_t *x = sm_in + o * axis * inner + i;
          int m = -128;
          for (int k = 0; k < axis; k++) m = x[k * inner] > m ? x[k * inner] : m;
          float sum = 0.0f;
          for (int k = 0; k < axis; k++) sum += sm_table[255 - m + x[k * inner]];
          const float inv = 1.0f / (sum * 0.00390625f);
          for (int k = 0; k < axis; k++)
            sm_want[o * axis * inner + i + k * inner] = (int8_t)clampi((int32_t)roundf(sm_table[255 - m + x[k * inner]] * inv) - 128, -128, 127);
        }
      es_softmax_s8(sm_in, sm_got, outer, axis, inner, sm_table, 0.00390625f, -128);
      snprintf(name, sizeof name, "softmax_s8 outer %d axis %d inner %d", (int)outer, (int)axis, (int)inner);
      check_s8(name, sm_got, sm_want, outer * axis * inner);
    }
  }

  /* maximum / minimum: every pair of codes, as they are (TFLite) and requantized to the output */
  int8_t *mx = malloc(256 * 256), *mn = malloc(256 * 256);
  int8_t *mx_want = malloc(256 * 256), *mn_want = malloc(256 * 256);
  const int32_t shape[4] = {1, 1, 256, 256}, a_strides[4] = {0, 0, 1, 0}, b_strides[4] = {0, 0, 0, 1};
  const int32_t mm_cases[2][9] = {{0, 0, 0, 0, 0, 0, 0, -128, 127},              /* codes as they are */
                                  {-3, 1288490189, 0, 20, 1073741824, 1, 5, -120, 100}}; /* 0.6 and 1.0 scale ratios, clamped */
  for (int c = 0; c < 2; c++) {
    const int32_t *k = mm_cases[c];
    for (int i = 0; i < 256; i++)
      for (int j = 0; j < 256; j++) {
        const int32_t x = k[1] == 0 ? all[i] : k[6] + ref_requant(all[i] - k[0], k[1], k[2]);
        const int32_t y = k[4] == 0 ? all[j] : k[6] + ref_requant(all[j] - k[3], k[4], k[5]);
        mx_want[i * 256 + j] = (int8_t)clampi(x > y ? x : y, k[7], k[8]);
        mn_want[i * 256 + j] = (int8_t)clampi(x < y ? x : y, k[7], k[8]);
      }
    es_maximum_s8(all, a_strides, k[0], k[1], k[2], all, b_strides, k[3], k[4], k[5], mx, shape, k[6], k[7], k[8]);
    es_minimum_s8(all, a_strides, k[0], k[1], k[2], all, b_strides, k[3], k[4], k[5], mn, shape, k[6], k[7], k[8]);
    snprintf(name, sizeof name, "maximum_s8 every pair of codes (%s)", c ? "requantized, clamped" : "codes as they are");
    check_s8(name, mx, mx_want, 256 * 256);
    snprintf(name, sizeof name, "minimum_s8 every pair of codes (%s)", c ? "requantized, clamped" : "codes as they are");
    check_s8(name, mn, mn_want, 256 * 256);
  }

  /* prelu: every input code against every alpha code (alpha broadcast along the last dim),
   * identity 1.25 = 0.625 * 2^1 and alpha multipliers as QuantizeMultiplier makes them */
  const int32_t pr_cases[2][7] = {{-5, 3, 7, 1342177280, 1, 1 << 30, -9}, {100, -20, -128, 2147483647, -1, 1288490189, -14}};
  for (int c = 0; c < 2; c++) {
    const int32_t *k = pr_cases[c];
    for (int i = 0; i < 256; i++)
      for (int j = 0; j < 256; j++) {
        const int32_t x = all[i] - k[0];
        const int32_t r = x >= 0 ? ref_requant(x, k[3], k[4]) : ref_requant(x * (all[j] - k[1]), k[5], k[6]);
        mx_want[i * 256 + j] = (int8_t)clampi(k[2] + r, -128, 127);
      }
    es_prelu_s8(all, a_strides, k[0], all, b_strides, k[1], mx, shape, k[2], k[3], k[4], k[5], k[6]);
    snprintf(name, sizeof name, "prelu_s8 every input and alpha code (in_zp %d, alpha_zp %d)", (int)k[0], (int)k[1]);
    check_s8(name, mx, mx_want, 256 * 256);
  }
  free(mx), free(mn), free(mx_want), free(mn_want);
}

static void test_requantize(void) {
  int bad = 0;
  for (int i = 0; i < 20000; i++) {
    int32_t x = i < 4 ? (int32_t[]){INT32_MIN, INT32_MAX, 0, -1}[i] : (int32_t)(rnd(0, 0x7fffffff) * (rnd(0, 1) ? 1u : -1u)) >> rnd(0, 20);
    int32_t m = i % 7 == 0 ? INT32_MIN + 0 * i : (int32_t)((1u << 30) + ((uint32_t)rnd(0, 0x3fffffff)));
    int32_t s = rnd(-31, 0);
    if (m == INT32_MIN) { if (es_saturating_rounding_doubling_high_mul(INT32_MIN, INT32_MIN) != INT32_MAX) bad++; continue; }
    if (es_requantize(x, m, s) != ref_requant(x, m, s)) bad++;
    int32_t small = x >> 12;
    int32_t ls = rnd(1, 8);
    if (es_requantize(small, m, ls) != ref_requant(small, m, ls)) bad++;
  }
  char detail[64];
  snprintf(detail, sizeof detail, "%d mismatches", bad);
  t_expect("es_requantize == reference on 20000 values (shifts -31..8, INT32_MIN saturation)", bad == 0, detail);
}

int main(void) {
  /*                 name                                 n  h   w   ic  oc  kh kw sh sw pt pl pb pr dh dw g  dw b  lo    hi  extreme */
  static const conv_case convs[] = {
      {"first conv 3x3 s2 3->32, clamp",                1, 17, 16, 3,  32, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1, 0, 1, -40, 127, 0},
      {"3x3 s1 p1 16->20",                              1, 9,  11, 16, 20, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, -128, 127, 0},
      {"7x7 s2 p3, batch 2",                            2, 11, 10, 3,  8,  7, 7, 2, 2, 3, 3, 3, 3, 1, 1, 1, 0, 1, -128, 127, 0},
      {"groups 3, dilation 2, asymmetric pad",          1, 10, 9,  12, 9,  3, 3, 1, 2, 2, 0, 2, 1, 2, 2, 3, 0, 0, -128, 127, 0},
      {"1x1 stride 2 130->33",                          1, 7,  8,  130, 33, 1, 1, 2, 2, 0, 0, 0, 0, 1, 1, 1, 0, 1, -128, 127, 0},
      {"3x3 s1 p1 64->38 (K=576, channel tail)",        1, 6,  7,  64, 38, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, -128, 127, 0},
      {"3x3 p1 256->9 (K=2304: two slices)",            1, 5,  6,  256, 9, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, -128, 127, 0},
      {"1x1 8->300 (two chunks of output channels)",    1, 3,  5,  8,  300, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 0, 1, -128, 127, 0},
      {"5x5 s3 groups 2, 6 per group, pad 2/1",         1, 13, 11, 10, 12, 5, 5, 3, 3, 2, 2, 1, 1, 1, 1, 2, 0, 1, -100, 100, 0},
      {"7x7 s2 p3 3->64 (ResNet stem), batch 2",        2, 21, 20, 3,  64, 7, 7, 2, 2, 3, 3, 3, 3, 1, 1, 1, 0, 1, 0, 127, 0},
      {"1x3 s(1,2) dilation (1,3), no bias",            1, 6,  17, 5,  7,  1, 3, 1, 2, 0, 2, 0, 1, 1, 3, 1, 0, 0, -128, 127, 0},
      {"3x3 p1 512->5 extreme values (K=4608: three slices)", 1, 4, 3, 512, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, -128, 127, 1},
      {"3x3 s2 p1 3->32 extreme values",                1, 9,  8,  3,  32, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1, 0, 1, -128, 127, 1},
      /* AVX2 reads patches from the input widened to int16 in bands of at most 65536 values: */
      {"3x3 s1 p1 64->24 on 48x50 (three bands)",       1, 48, 50, 64, 24, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, -128, 127, 0},
      {"3x3 s2 dilation (2,1) 33->17 on 61x70 (bands)", 1, 61, 70, 33, 17, 3, 3, 2, 2, 2, 1, 1, 0, 2, 1, 1, 0, 1, -128, 127, 0},
      {"3x5 s(1,2) dilation 2 groups 3 on 90x120 (bands, odd spans)", 1, 90, 120, 21, 6, 3, 5, 1, 2, 2, 4, 2, 4, 2, 2, 3, 0, 1, -128, 127, 0},
      {"3x3 p1 256->7 on 4x88 (one row's band too wide: gathered)", 1, 4, 88, 256, 7, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, -128, 127, 0},
      /* NEON and portable: short spans packed into one row per pixel, over three bands */
      {"3x3 s2 p1 3->16 on 200x96 (bands, spans of 9 packed)", 1, 200, 96, 3, 16, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1, 0, 1, -128, 127, 0},
  };
  static const conv_case dws[] = {
      {"3x3 s1 p1 c=32, clamp",                         1, 14, 13, 32, 0, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, -128, 60, 0},
      {"3x3 s2 p1 c=20",                                1, 15, 16, 20, 0, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 0, 1, 1, -128, 127, 0},
      {"5x5 s2 p2 c=300 (two channel blocks), batch 2", 2, 9,  8,  300, 0, 5, 5, 2, 2, 2, 2, 2, 2, 1, 1, 0, 1, 1, -128, 127, 0},
      {"3x3 dilation 2 c=18",                           1, 12, 12, 18, 0, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2, 0, 1, 1, -128, 127, 0},
      {"3x3 s1 p1 c=37 (two blocks of 16 and 5)",       1, 7,  9,  37, 0, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, -128, 127, 0},
      {"3x3 s2 no pad c=48, clamp, no bias",            1, 11, 10, 48, 0, 3, 3, 2, 2, 0, 0, 0, 0, 1, 1, 0, 1, 0, -10, 90, 0},
      {"9x9 p4 c=21 (81 taps: two passes)",             1, 10, 9,  21, 0, 9, 9, 1, 1, 4, 4, 4, 4, 1, 1, 0, 1, 1, -128, 127, 0},
      {"9x9 p4 c=32 extreme values (81 taps)",          1, 6,  5,  32, 0, 9, 9, 1, 1, 4, 4, 4, 4, 1, 1, 0, 1, 1, -128, 127, 1},
      {"3x3 s2 dilation 2 c=32, pads 2/1/1/2",          1, 11, 12, 32, 0, 3, 3, 2, 2, 2, 1, 1, 2, 2, 2, 0, 1, 1, -128, 127, 0},
      {"3x3 s(2,3) p1 c=64, batch 2",                   2, 9,  13, 64, 0, 3, 3, 2, 3, 1, 1, 1, 1, 1, 1, 0, 1, 1, -128, 127, 0},
      {"3x3 p1 c=16 on a 1x5 input (no interior row)",  1, 1,  5,  16, 0, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, -128, 127, 0},
      {"3x3 s1 p1 c=960 extreme values",                1, 3,  3,  960, 0, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, -128, 127, 1},
  };
  for (size_t i = 0; i < sizeof convs / sizeof convs[0]; i++) test_conv(&convs[i]);
  for (size_t i = 0; i < sizeof dws / sizeof dws[0]; i++) test_conv(&dws[i]);
  test_gemm("", 5, 7, 9, 0, 1);
  test_gemm("NEON tails", 3, 33, 17, 0, 1);
  test_gemm("pointwise", 49, 160, 96, 0, 1);
  test_gemm("fully connected", 1, 1280, 40, 0, 0);
  test_gemm("extreme values (-128 x -127, int16 pairs)", 2, 64, 4, 1, 1);
  test_gemm("extreme values, long K", 5, 4099, 6, 1, 1);
  test_gemm("one full tile", 4, 16, 4, 0, 1);
  test_gemm("row and column tails, K=27", 7, 27, 6, 0, 1);
  test_gemm("K=1", 13, 1, 3, 0, 1);
  test_gemm("K=72 n=130", 9, 72, 130, 0, 0);
  test_gemm("fully connected 1280->1001", 1, 1280, 1001, 0, 1);
  test_gemm("expand 24->144", 50, 24, 144, 0, 1);
  /* lone rows on AVX2: groups of 8 columns, K < 32, and a K tail after whole 32-value steps */
  test_gemm("fully connected 8->128", 1, 8, 128, 0, 1);
  test_gemm("fully connected 1000->21 (K tail 8, 5 columns left)", 1, 1000, 21, 0, 1);
  test_gemm("fully connected 77->16 extreme values", 1, 77, 16, 1, 1);
  sweep_gemm();
  sweep_depthwise();
  sweep_conv();
  test_add();
  test_pools();
  test_max_pool_shapes();
  test_mean_concat_clamp_quantize();
  test_reduce_extremes_s8();
  test_strided_copy_s8();
  test_gather_s8();
  test_activations_s8();
  test_requantize();
  test_windows_int8();
  test_indices_int8();
  return t_summary("quantized kernels") ? 1 : 0;
}
