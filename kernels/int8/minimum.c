/* es_minimum_s8: TFLite's MINIMUM int8, broadcast (max_min_s8.h). */
#include "max_min_s8.h"

ES_MAX_MIN_S8_KERNEL(es_minimum_s8, x < y ? x : y)
