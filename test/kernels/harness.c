#include "harness.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { GUARD = 16 };
static const uint32_t CANARY = 0x7fc0dead; /* a NaN nobody computes */

static uint32_t state = 1;
static int passed, failed;

void t_seed(uint32_t seed) { state = seed ? seed : 1; }

float t_uniform(float lo, float hi) {
  state ^= state << 13;
  state ^= state >> 17;
  state ^= state << 5;
  return lo + (hi - lo) * (float)(state >> 8) * (1.0f / 16777216.0f);
}

/* Layout: [count][GUARD canaries][data...][GUARD canaries], data 64-byte aligned. */
float *t_buffer(size_t count) {
  const size_t head = 64 / sizeof(float) + GUARD;
  float *raw = (float *)malloc((head + count + GUARD) * sizeof(float) + 64);
  if (!raw) {
    printf("FAIL out of memory allocating %zu floats\n", count);
    exit(2);
  }
  uintptr_t p = ((uintptr_t)(raw + head) + 63) & ~(uintptr_t)63;
  float *data = (float *)p;
  ((void **)(void *)(data - GUARD))[-1] = raw;
  ((size_t *)(void *)(data - GUARD))[-2] = count;
  for (size_t i = 0; i < GUARD; i++) {
    memcpy(data - GUARD + i, &CANARY, 4);
    memcpy(data + count + i, &CANARY, 4);
  }
  for (size_t i = 0; i < count; i++) data[i] = NAN;
  return data;
}

float *t_random(size_t count, float lo, float hi) {
  float *b = t_buffer(count);
  for (size_t i = 0; i < count; i++) b[i] = t_uniform(lo, hi);
  return b;
}

int t_guards_intact(const float *buf) {
  const size_t count = ((const size_t *)(const void *)(buf - GUARD))[-2];
  for (size_t i = 0; i < GUARD; i++) {
    uint32_t a, b;
    memcpy(&a, buf - GUARD + i, 4);
    memcpy(&b, buf + count + i, 4);
    if (a != CANARY || b != CANARY) return 0;
  }
  return 1;
}

void t_free(float *buf) {
  if (buf) free(((void **)(void *)(buf - GUARD))[-1]);
}

void t_check(const char *name, const float *got, const double *ref, size_t count, double tol) {
  double max_ref = 0.0, max_err = 0.0;
  size_t worst = 0, mismatched_nan = 0;
  for (size_t i = 0; i < count; i++)
    if (!isnan(ref[i]) && !isinf(ref[i]) && fabs(ref[i]) > max_ref) max_ref = fabs(ref[i]);
  for (size_t i = 0; i < count; i++) {
    const double g = got[i], r = ref[i];
    if (isnan(r) || isnan(g) || isinf(r) || isinf(g)) {
      const int same = (isnan(r) && isnan(g)) || (isinf(r) && isinf(g) && (r > 0) == (g > 0));
      if (!same && mismatched_nan++ == 0) worst = i;
      continue;
    }
    const double err = fabs(g - r);
    if (err > max_err) {
      max_err = err;
      if (!mismatched_nan) worst = i;
    }
  }
  const double limit = tol * (max_ref > 0 ? max_ref : 1.0);
  const int ok = !mismatched_nan && (tol == 0.0 ? max_err == 0.0 : max_err <= limit);
  const int guards = t_guards_intact(got);
  if (ok && guards) {
    passed++;
    printf("ok   %s (n=%zu max_err=%.3g rel=%.3g)\n", name, count, max_err,
           max_ref > 0 ? max_err / max_ref : max_err);
  } else {
    failed++;
    printf("FAIL %s: n=%zu max_err=%.6g limit=%.6g max|ref|=%.6g worst[%zu] got=%.9g ref=%.9g%s%s\n",
           name, count, max_err, limit, max_ref, worst, (double)got[worst], ref[worst],
           mismatched_nan ? " (NaN/inf mismatch)" : "", guards ? "" : " (wrote outside its buffer)");
  }
}

void t_check_elementwise(const char *name, const float *got, const double *ref, size_t count,
                         double rtol, double atol) {
  size_t bad = 0, first = 0;
  for (size_t i = 0; i < count; i++) {
    const double g = got[i], r = ref[i];
    const int ok = (isnan(r) || isnan(g)) ? (isnan(r) && isnan(g)) : g == r || fabs(g - r) <= atol + rtol * fabs(r);
    if (!ok && bad++ == 0) first = i;
  }
  const int guards = t_guards_intact(got);
  if (!bad && guards) {
    passed++;
    printf("ok   %s (n=%zu)\n", name, count);
  } else {
    failed++;
    printf("FAIL %s: %zu of %zu elements off, first [%zu] got=%.9g ref=%.9g%s\n", name, bad, count,
           first, (double)got[first], ref[first], guards ? "" : " (wrote outside its buffer)");
  }
}

void t_expect(const char *name, int ok, const char *detail) {
  if (ok) {
    passed++;
    printf("ok   %s\n", name);
  } else {
    failed++;
    printf("FAIL %s: %s\n", name, detail);
  }
}

int t_failed(void) { return failed; }

int t_summary(const char *suite) {
  printf("%s: %d passed, %d failed\n", suite, passed, failed);
  return failed;
}
