/* Issue 13's windows and resampling kernel tests (test_windows.c). */
#ifndef EDGESPEC_TEST_WINDOWS_H
#define EDGESPEC_TEST_WINDOWS_H
void test_windows(void);
#endif
