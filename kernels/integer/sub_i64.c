/* es_sub_i64: out = a - b on int64 tensors with broadcasting, wrapping on overflow (binary_int.h). */
#include "binary_int.h"

ES_INT_BINARY_KERNEL(es_sub_i64, int64_t, uint64_t, x - y)
