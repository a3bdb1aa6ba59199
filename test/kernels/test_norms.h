/* Issue 13's normalization and tensor plumbing kernel tests (test_norms.c). */
#ifndef EDGESPEC_TEST_NORMS_H
#define EDGESPEC_TEST_NORMS_H
void test_norms(void);
#endif
