/* es_take_s8 tests (test_indices_int8.c). */
#ifndef EDGESPEC_TEST_INDICES_INT8_H
#define EDGESPEC_TEST_INDICES_INT8_H
void test_indices_int8(void);
#endif
