/* Guest instructions per multiply-add of the hot kernels, and of a whole MobileNetV2
 * (torchvision's layer shapes, random weights) built from them. Run bare metal under
 * qemu-system-aarch64 -icount shift=0,sleep=off, where the virtual counter advances one nanosecond per
 * instruction. Fails if a kernel costs more instructions per MAC than its budget.
 * Prints: "bench: NAME macs=N instructions=N per_mac=X budget=Y". */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "edgespec/kernels.h"
#include "harness.h"

/* Seconds of virtual time: real time without -icount, instructions x 1 ns with it. */
static double seconds_now(void) {
  uint64_t ticks, freq;
  __asm__ volatile("isb\n\tmrs %0, cntvct_el0" : "=r"(ticks) : : "memory");
  __asm__ volatile("mrs %0, cntfrq_el0" : "=r"(freq));
  return (double)ticks / (double)freq;
}

static uint64_t instructions_now(void) {
  uint64_t ticks, freq;
  __asm__ volatile("isb\n\tmrs %0, cntvct_el0" : "=r"(ticks) : : "memory");
  __asm__ volatile("mrs %0, cntfrq_el0" : "=r"(freq));
  return (uint64_t)((__uint128_t)ticks * 1000000000u / freq);
}

static int over_budget;
static double last_seconds;

static void report(const char *name, uint64_t macs, uint64_t instructions, double budget) {
  const double per_mac = (double)instructions / (double)macs;
  printf("bench: %s macs=%llu instructions=%llu per_mac=%.3f budget=%.2f virtual_seconds=%.4f%s\n", name,
         (unsigned long long)macs, (unsigned long long)instructions, per_mac, budget, last_seconds,
         per_mac > budget ? " OVER BUDGET" : "");
  t_expect(name, per_mac <= budget, "more guest instructions per multiply-add than budgeted");
  if (per_mac > budget) over_budget++;
}

static float *weights(size_t n, int fan_in) {
  const float a = sqrtf(3.0f / (float)fan_in);
  return t_random(n, -a, a);
}

static void bench_gemm(int m, int k, int n, double budget) {
  float *a = t_random((size_t)m * k, 0, 1), *w = weights((size_t)k * n, k), *b = t_random((size_t)n, -1, 1);
  float *out = t_buffer((size_t)m * n);
  const double s0 = seconds_now();
  const uint64_t t0 = instructions_now();
  es_gemm_f32(a, w, b, out, m, k, n, 0.0f, 6.0f);
  const uint64_t t1 = instructions_now();
  last_seconds = seconds_now() - s0;
  char name[80];
  snprintf(name, sizeof name, "gemm m=%d k=%d n=%d", m, k, n);
  report(name, (uint64_t)m * k * n, t1 - t0, budget);
  t_free(a), t_free(w), t_free(b), t_free(out);
}

static void bench_depthwise(int h, int c, int stride, double budget) {
  const es_shape4 is = {1, h, h, c}, os = {1, (h - 1) / stride + 1, (h - 1) / stride + 1, c};
  float *in = t_random((size_t)h * h * c, 0, 1), *w = weights((size_t)9 * c, 9), *b = t_random((size_t)c, -1, 1);
  float *out = t_buffer((size_t)os.h * os.w * c);
  const double s0 = seconds_now();
  const uint64_t t0 = instructions_now();
  es_conv2d_depthwise_f32(in, is, w, b, out, os, 3, 3, stride, stride, 1, 1, 1, 1, 0.0f, 6.0f);
  const uint64_t t1 = instructions_now();
  last_seconds = seconds_now() - s0;
  char name[80];
  snprintf(name, sizeof name, "depthwise 3x3 s%d %dx%dx%d", stride, h, h, c);
  report(name, (uint64_t)os.h * os.w * c * 9, t1 - t0, budget);
  t_free(in), t_free(w), t_free(b), t_free(out);
}

static void bench_conv(int h, int ic, int oc, int k, int stride, double budget) {
  const int pad = k / 2, oh = (h + 2 * pad - k) / stride + 1;
  const es_shape4 is = {1, h, h, ic}, os = {1, oh, oh, oc};
  float *in = t_random((size_t)h * h * ic, 0, 1), *w = weights((size_t)oc * k * k * ic, k * k * ic);
  float *b = t_random((size_t)oc, -1, 1), *out = t_buffer((size_t)oh * oh * oc);
  const double s0 = seconds_now();
  const uint64_t t0 = instructions_now();
  es_conv2d_f32(in, is, w, b, out, os, k, k, stride, stride, pad, pad, 1, 1, 1, 0.0f, 6.0f);
  const uint64_t t1 = instructions_now();
  last_seconds = seconds_now() - s0;
  char name[80];
  snprintf(name, sizeof name, "conv2d %dx%d s%d %dx%dx%d->%d", k, k, stride, h, h, ic, oc);
  report(name, (uint64_t)oh * oh * oc * k * k * ic, t1 - t0, budget);
  t_free(in), t_free(w), t_free(b), t_free(out);
}

/* Elementwise kernels: instructions per element (libm's expf took 93 in sigmoid and silu). */
static void bench_elementwise(void) {
  const int32_t n = 56 * 56 * 96;
  float *x = t_random((size_t)n, -4, 4), *y = t_random((size_t)n, -4, 4), *out = t_buffer((size_t)n);
  const int32_t shape[4] = {1, 56, 56, 96}, dense[4] = {n, 56 * 96, 96, 1};
  static const char *const names[] = {"add (residual)", "add + relu6", "hardswish", "sigmoid", "silu"};
  static const double budgets[] = {2.0, 4.7, 3.9, 8.0, 8.0}; /* measured + 10 % */
  for (int k = 0; k < 5; k++) {
    const double s0 = seconds_now();
    const uint64_t t0 = instructions_now();
    switch (k) {
      case 0: es_add_f32(x, dense, y, dense, out, shape, -INFINITY, INFINITY); break;
      case 1: es_add_f32(x, dense, y, dense, out, shape, 0.0f, 6.0f); break;
      case 2: es_hardswish_f32(x, out, n); break;
      case 3: es_sigmoid_f32(x, out, n); break;
      case 4: es_silu_f32(x, out, n); break;
    }
    const uint64_t spent = instructions_now() - t0;
    last_seconds = seconds_now() - s0;
    const double per = (double)spent / n;
    printf("bench: %s elements=%d instructions=%llu per_element=%.2f budget=%.1f virtual_seconds=%.4f\n",
           names[k], (int)n, (unsigned long long)spent, per, budgets[k], last_seconds);
    t_expect(names[k], per <= budgets[k], "more guest instructions per element than budgeted");
  }
  t_free(x), t_free(y), t_free(out);
}

/* torchvision MobileNetV2 at 224x224: the same kernels and shapes the generated model uses
 * (batch norm folded, ReLU6 fused), ping-ponging between activation buffers. */
static void bench_mobilenet_v2(void) {
  static const int cfg[7][4] = {{1, 16, 1, 1}, {6, 24, 2, 2}, {6, 32, 3, 2}, {6, 64, 4, 2},
                                {6, 96, 3, 1}, {6, 160, 3, 2}, {6, 320, 1, 1}};
  const size_t big = (size_t)112 * 112 * 96; /* largest activation */
  float *x = t_random((size_t)224 * 224 * 3, -1, 1);
  float *bufs[3] = {t_buffer(big), t_buffer(big), t_buffer(big)};
  uint64_t macs = 0, spent = 0, t0;
  double seconds = 0.0, s0;
  int h = 112, c = 32;

  float *w = weights((size_t)32 * 27, 27), *b = t_random(32, -0.1f, 0.1f);
  es_shape4 is = {1, 224, 224, 3}, os = {1, 112, 112, 32};
  t0 = instructions_now();
  s0 = seconds_now();
  es_conv2d_f32(x, is, w, b, bufs[0], os, 3, 3, 2, 2, 1, 1, 1, 1, 1, 0.0f, 6.0f);
  spent += instructions_now() - t0;
  seconds += seconds_now() - s0;
  macs += (uint64_t)112 * 112 * 32 * 27;
  t_free(w), t_free(b);
  int cur = 0;

  for (int s = 0; s < 7; s++)
    for (int r = 0; r < cfg[s][2]; r++) {
      const int stride = r == 0 ? cfg[s][3] : 1, hidden = c * cfg[s][0], oc = cfg[s][1];
      const int oh = (h - 1) / stride + 1;
      float *in = bufs[cur], *t1 = bufs[(cur + 1) % 3], *t2 = bufs[(cur + 2) % 3];
      float *we = cfg[s][0] != 1 ? weights((size_t)c * hidden, c) : NULL, *be = t_random((size_t)hidden, -0.1f, 0.1f);
      float *wd = weights((size_t)9 * hidden, 9), *bd = t_random((size_t)hidden, -0.1f, 0.1f);
      float *wp = weights((size_t)hidden * oc, hidden), *bp = t_random((size_t)oc, -0.1f, 0.1f);
      t0 = instructions_now();
      s0 = seconds_now();
      const float *dw_in = in;
      if (we) {
        es_gemm_f32(in, we, be, t1, h * h, c, hidden, 0.0f, 6.0f);
        dw_in = t1;
      }
      const es_shape4 dis = {1, h, h, hidden}, dos = {1, oh, oh, hidden};
      es_conv2d_depthwise_f32(dw_in, dis, wd, bd, t2, dos, 3, 3, stride, stride, 1, 1, 1, 1, 0.0f, 6.0f);
      float *out = t1 == in ? t2 : t1; /* any buffer but the block input and the depthwise output */
      out = (t1 != in && t1 != t2) ? t1 : bufs[(cur + 1) % 3];
      es_gemm_f32(t2, wp, bp, out, oh * oh, hidden, oc, -INFINITY, INFINITY);
      if (stride == 1 && c == oc) {
        const int32_t shape[4] = {1, oh, oh, oc}, dense[4] = {oh * oh * oc, oh * oc, oc, 1};
        es_add_f32(out, dense, in, dense, out, shape, -INFINITY, INFINITY);
      }
      spent += instructions_now() - t0;
      seconds += seconds_now() - s0;
      macs += (uint64_t)(we ? h * h * c * hidden : 0) + (uint64_t)oh * oh * hidden * 9 +
              (uint64_t)oh * oh * hidden * oc;
      cur = out == bufs[0] ? 0 : out == bufs[1] ? 1 : 2;
      h = oh, c = oc;
      t_free(we), t_free(be), t_free(wd), t_free(bd), t_free(wp), t_free(bp);
    }

  float *wl = weights((size_t)320 * 1280, 320), *bl = t_random(1280, -0.1f, 0.1f);
  float *wf = weights((size_t)1280 * 1000, 1280), *bf = t_random(1000, -0.1f, 0.1f);
  float *pooled = t_buffer(1280), *logits = t_buffer(1000), *last = bufs[(cur + 1) % 3];
  t0 = instructions_now();
  s0 = seconds_now();
  es_gemm_f32(bufs[cur], wl, bl, last, 49, 320, 1280, 0.0f, 6.0f);
  es_mean_f32(last, pooled, 1, 49, 1280);
  es_gemm_f32(pooled, wf, bf, logits, 1, 1280, 1000, -INFINITY, INFINITY);
  spent += instructions_now() - t0;
  seconds += seconds_now() - s0;
  macs += (uint64_t)49 * 320 * 1280 + 1280 * 1000;

  int finite = 1;
  for (int i = 0; i < 1000; i++) finite &= isfinite(logits[i]);
  t_expect("mobilenet_v2 logits finite", finite, "the network produced NaN or inf");
  last_seconds = seconds;
  report("mobilenet_v2 whole network", macs, spent, 0.53);
  printf("bench: mobilenet_v2 virtual_seconds=%.3f (wall seconds when run without -icount)\n", seconds);
  t_free(wl), t_free(bl), t_free(wf), t_free(bf), t_free(pooled), t_free(logits), t_free(x);
  for (int i = 0; i < 3; i++) t_free(bufs[i]);
}

int main(int argc, char **argv) {
  (void)argc, (void)argv;
  t_seed(7);
  /* Budgets: the measured cost plus about 10 % (icount makes the counts exact). */
  bench_gemm(3136, 24, 144, 0.60);
  bench_gemm(784, 192, 32, 0.42);
  bench_gemm(196, 384, 64, 0.41);
  bench_gemm(49, 960, 320, 0.40);
  bench_gemm(1, 1280, 1000, 0.58);
  bench_depthwise(56, 144, 1, 0.92);
  bench_depthwise(112, 96, 2, 0.97);
  bench_depthwise(14, 384, 1, 1.16);
  bench_depthwise(7, 960, 1, 1.43);
  bench_conv(224, 3, 32, 3, 2, 1.01);
  bench_conv(28, 64, 64, 3, 1, 0.51);
  bench_elementwise();
  bench_mobilenet_v2();
  return t_summary("bench") ? 1 : 0;
}
