/* layer_norm and group_norm against double-precision references (in place too), the strided
 * copy behind slice, expand and tile, and gather. */
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

static void test_group_norm(int batch, int channels, int spatial, int groups, int last, int affine, int in_place,
                            float offset) {
  const size_t n = (size_t)batch * channels * spatial;
  float *in = t_random(n, -3, 3), *out = in_place ? in : t_buffer(n);
  for (size_t i = 0; i < n; i++) in[i] += offset;
  float *gamma = affine ? t_random(channels, 0.5f, 1.5f) : NULL, *beta = affine ? t_random(channels, -1, 1) : NULL;
  const gn_ctx ctx = {channels, spatial, groups, last};
  double *ref = ref_norm(in, gamma, beta, n, (size_t)batch * groups, gn_at, gn_param, &ctx, 1e-5);
  es_group_norm_f32(in, gamma, beta, out, batch, channels, spatial, groups, last, 1e-5f);
  char name[112];
  snprintf(name, sizeof name, "group_norm n=%d c=%d s=%d groups=%d %s%s%s offset=%g", batch, channels, spatial,
           groups, last ? "channels last" : "channels first", affine ? " affine" : "", in_place ? " in place" : "",
           offset);
  t_check(name, out, ref, n, 2e-5);
  if (!in_place) t_free(out);
  t_free(in), free(ref);
  if (affine) t_free(gamma), t_free(beta);
}

/* A strided copy against index arithmetic: every output element, in row-major order. */
static void test_strided_copy(const char *label, int rank, const int32_t *shape, const int32_t *strides, int32_t offset,
                              size_t in_count) {
  size_t n = 1;
  for (int d = 0; d < rank; d++) n *= (size_t)shape[d];
  float *in = t_random(in_count, -1, 1), *out = t_buffer(n);
  double *ref = ref_buffer(n);
  for (size_t k = 0; k < n; k++) {
    size_t rest = k;
    long at = offset;
    for (int d = rank - 1; d >= 0; d--) {
      at += (long)(rest % (size_t)shape[d]) * strides[d];
      rest /= (size_t)shape[d];
    }
    ref[k] = in[at];
  }
  es_strided_copy_f32(in, out, rank, shape, strides, offset);
  char name[96];
  snprintf(name, sizeof name, "strided_copy %s", label);
  t_check(name, out, ref, n, 0);
  t_free(in), t_free(out), free(ref);
}

static void test_gather(void) {
  const int outer = 3, axis = 7, inner = 5, count = 4;
  const int32_t indices[4] = {6, 0, 6, 2};
  float *in = t_random((size_t)outer * axis * inner, -1, 1), *out = t_buffer((size_t)outer * count * inner);
  double *ref = ref_buffer((size_t)outer * count * inner);
  for (int o = 0; o < outer; o++)
    for (int k = 0; k < count; k++)
      for (int i = 0; i < inner; i++) ref[(o * count + k) * inner + i] = in[(o * axis + indices[k]) * inner + i];
  es_gather_f32(in, out, outer, axis, inner, indices, count);
  t_check("gather [3][7][5] indices 6 0 6 2", out, ref, (size_t)outer * count * inner, 0);
  t_free(in), t_free(out), free(ref);
}

/* where: a [3][1] condition, x [3][4], other a scalar broadcast everywhere (masked_fill). */
static void test_where(void) {
  float *cond = t_buffer(3), *x = t_random(12, -1, 1), *other = t_buffer(1), *out = t_buffer(12);
  cond[0] = 1.0f, cond[1] = 0.0f, cond[2] = -2.0f, other[0] = -INFINITY;
  double ref[12];
  for (int r = 0; r < 3; r++)
    for (int c = 0; c < 4; c++) ref[r * 4 + c] = cond[r] != 0.0f ? x[r * 4 + c] : -INFINITY;
  es_where_f32(cond, x, other, out, 2, (const int32_t[]){3, 4}, (const int32_t[]){1, 0}, (const int32_t[]){4, 1},
               (const int32_t[]){0, 0});
  t_check("where [3][1] ? [3][4] : -inf", out, ref, 12, 0);
  t_free(cond), t_free(x), t_free(other), t_free(out);
}

void test_norms(void) {
  test_layer_norm(4, 768, 1, 0, 0);
  test_layer_norm(3, 7, 0, 1, 0);
  test_layer_norm(2, 300, 1, 1, 100);
  test_layer_norm(5, 1, 1, 0, 0);
  test_group_norm(2, 8, 30, 4, 0, 1, 0, 0);
  test_group_norm(1, 8, 30, 4, 1, 1, 0, 0);
  test_group_norm(1, 6, 49, 6, 1, 0, 1, 0); /* instance norm */
  test_group_norm(3, 5, 7, 1, 0, 1, 1, 0);
  test_group_norm(1, 32, 784, 4, 1, 1, 0, 50); /* groups of 6272 values near 50 */
  /* slice [1:4:2, ::-1, 2] of [5][6][3] */
  test_strided_copy("slice with steps 2, -1", 2, (const int32_t[]){2, 6}, (const int32_t[]){36, -3}, 18 + 15 + 2, 90);
  /* expand [3][1][4] to [2][3][5][4] */
  test_strided_copy("expand", 4, (const int32_t[]){2, 3, 5, 4}, (const int32_t[]){0, 4, 0, 1}, 0, 12);
  /* tile [2][3] by [2][3]: iteration [2][2][3][3] */
  test_strided_copy("tile", 4, (const int32_t[]){2, 2, 3, 3}, (const int32_t[]){0, 3, 0, 1}, 0, 6);
  test_strided_copy("eight dims", 8, (const int32_t[]){2, 1, 2, 3, 1, 2, 2, 3}, (const int32_t[]){72, 0, 36, 12, 0, 6, 3, 1}, 0, 144);
  test_strided_copy("empty", 2, (const int32_t[]){0, 3}, (const int32_t[]){3, 1}, 0, 3);
  test_gather();
  test_where();
}
