/* es_add_f32: out = clamp(a + b) with broadcasting (kernels.h). */
#include "binary.h"

ES_BINARY_KERNEL(es_add_f32, x + y)
