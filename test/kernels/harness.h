/* Minimal test harness shared by the kernel tests (host and bare metal). */
#ifndef EDGESPEC_TEST_HARNESS_H
#define EDGESPEC_TEST_HARNESS_H

#include <stddef.h>
#include <stdint.h>

/* Deterministic uniform floats in [lo, hi). */
void t_seed(uint32_t seed);
float t_uniform(float lo, float hi);

/* A float buffer with guard zones before and after it, filled with a canary; the data
 * starts as NaN so outputs a kernel forgot to write fail the comparison. */
float *t_buffer(size_t count);
float *t_random(size_t count, float lo, float hi);
int t_guards_intact(const float *buf);
void t_free(float *buf);

/* Compares `count` outputs with a double reference. tol is relative to max|ref|
 * (0 asks for exact equality). NaN must match NaN. Records pass or fail under `name`. */
void t_check(const char *name, const float *got, const double *ref, size_t count, double tol);
/* Per element: got == ref (infinities too) or |got - ref| <= atol + rtol * |ref| (for elementwise math functions). */
void t_check_elementwise(const char *name, const float *got, const double *ref, size_t count,
                         double rtol, double atol);
/* Records a check that is just a condition. */
void t_expect(const char *name, int ok, const char *detail);

int t_failed(void);
int t_summary(const char *suite); /* prints "<suite>: N passed, N failed"; returns failed */

#endif
