/* es_minimum_f32: out = clamp(min(a, b)) with broadcasting (kernels.h); NaN if either is NaN. */
#include "binary.h"

ES_BINARY_KERNEL(es_minimum_f32, x != x ? x : (y != y ? y : (x < y ? x : y)))
