/* Issue 13's integer I/O kernel tests (test_indices.c): take with run-time indices, the integer
 * binaries and casts, pow with a tensor exponent. */
#ifndef EDGESPEC_TEST_INDICES_H
#define EDGESPEC_TEST_INDICES_H
void test_indices(void);
#endif
