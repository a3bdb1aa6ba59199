/* Issue 13's int8 resampling kernel tests (test_windows_int8.c). */
#ifndef EDGESPEC_TEST_WINDOWS_INT8_H
#define EDGESPEC_TEST_WINDOWS_INT8_H
void test_windows_int8(void);
#endif
