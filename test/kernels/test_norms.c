/* layer_norm and group_norm against double-precision references (in place too), and the
 * strided copy behind slice, expand and tile. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "edgespec/kernels.h"
#include "harness.h"
#include "reference.h"
#include "test_norms.h"

static double *ref_buffer(size_t n) {
  double *r = (double *)malloc((n ? n : 1) * sizeof(double));
  if (!r) {
    printf("FAIL out of memory\n");
    exit(1);
  }
  return r;
}

static double *ref_norm(const float *x, const float *gamma, const float *beta, size_t count, size_t sets,
                        size_t (*at)(size_t set, size_t k, const void *ctx), size_t (*param)(size_t index, const void *ctx),
                        const void *ctx, double eps) {
  double *ref = ref_buffer(count);
  const size_t per = count / sets;
  for (size_t s = 0; s < sets; s++) {
    double mean = 0, var = 0;
    for (size_t k = 0; k < per; k++) mean += x[at(s, k, ctx)];
    mean /= (double)per;
    for (size_t k = 0; k < per; k++) var += (x[at(s, k, ctx)] - mean) * (x[at(s, k, ctx)] - mean);
    var /= (double)per;
    for (size_t k = 0; k < per; k++) {
      const size_t i = at(s, k, ctx), p = param(i, ctx);
      ref[i] = (x[i] - mean) / sqrt(var + eps) * (gamma ? gamma[p] : 1.0) + (beta ? beta[p] : 0.0);
    }
  }
  return ref;
}

typedef struct { int outer, inner; } ln_ctx;
static size_t ln_at(size_t set, size_t k, const void *c) { return set * ((const ln_ctx *)c)->inner + k; }
static size_t ln_param(size_t i, const void *c) { return i % ((const ln_ctx *)c)->inner; }

static void test_layer_norm(int outer, int inner, int affine, int in_place, float offset) {
  const size_t n = (size_t)outer * inner;
  float *in = t_random(n, -2, 2), *out = in_place ? in : t_buffer(n);
  for (size_t i = 0; i < n; i++) in[i] += offset;
  float *gamma = affine ? t_random(inner, 0.5f, 1.5f) : NULL, *beta = affine ? t_random(inner, -1, 1) : NULL;
  const ln_ctx ctx = {outer, inner};
  double *ref = ref_norm(in, gamma, beta, n, outer, ln_at, ln_param, &ctx, 1e-5);
  es_layer_norm_f32(in, gamma, beta, out, outer, inner, 1e-5f);
  char name[96];
  snprintf(name, sizeof name, "layer_norm outer=%d inner=%d%s%s offset=%g", outer, inner, affine ? " affine" : "",
           in_place ? " in place" : "", offset);
  t_check(name, out, ref, n, 2e-5);
  if (!in_place) t_free(out);
  t_free(in), free(ref);
  if (affine) t_free(gamma), t_free(beta);
}

typedef struct { int channels, spatial, groups, last; } gn_ctx;
static size_t gn_at(size_t set, size_t k, const void *p) {
  const gn_ctx *c = p;
  const size_t per = (size_t)c->channels / c->groups, n = set / c->groups, g = set % c->groups;
  const size_t ch = g * per + k / c->spatial, s = k % c->spatial;
  return n * c->channels * c->spatial + (c->last ? s * c->channels + ch : ch * c->spatial + s);
}
static size_t gn_param(size_t i, const void *p) {
  const gn_ctx *c = p;
  return c->last ? i % c->channels : (i / c->spatial) % c->channels;
}

static void test_group_norm(int batch, int channels, int spatial, int groups, int last, int affine, int in_place) {
  const size_t n = (size_t)batch * channels * spatial;
  float *in = t_random(n, -3, 3), *out = in_place ? in : t_buffer(n);
  float *gamma = affine ? t_random(channels, 0.5f, 1.5f) : NULL, *beta = affine ? t_random(channels, -1, 1) : NULL;
  const gn_ctx ctx = {channels, spatial, groups, last};
  double *ref = ref_norm(in, gamma, beta, n, (size_t)batch * groups, gn_at, gn_param, &ctx, 1e-5);
  es_group_norm_f32(in, gamma, beta, out, batch, channels, spatial, groups, last, 1e-5f);
  char name[112];
  snprintf(name, sizeof name, "group_norm n=%d c=%d s=%d groups=%d %s%s%s", batch, channels, spatial, groups,
           last ? "channels last" : "channels first", affine ? " affine" : "", in_place ? " in place" : "");
  t_check(name, out, ref, n, 2e-5);
  if (!in_place) t_free(out);
  t_free(in), free(ref);
  if (affine) t_free(gamma), t_free(beta);
}

void test_norms(void) {
  test_layer_norm(4, 768, 1, 0, 0);
  test_layer_norm(3, 7, 0, 1, 0);
  test_layer_norm(2, 300, 1, 1, 100);
  test_layer_norm(5, 1, 1, 0, 0);
  test_group_norm(2, 8, 30, 4, 0, 1, 0);
  test_group_norm(1, 8, 30, 4, 1, 1, 0);
  test_group_norm(1, 6, 49, 6, 1, 0, 1); /* instance norm */
  test_group_norm(3, 5, 7, 1, 0, 1, 1);
}
