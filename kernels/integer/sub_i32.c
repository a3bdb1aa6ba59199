/* es_sub_i32: out = a - b on int32 tensors with broadcasting, wrapping on overflow (binary_int.h). */
#include "binary_int.h"

ES_INT_BINARY_KERNEL(es_sub_i32, int32_t, uint32_t, x - y)
