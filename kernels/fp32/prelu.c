/* es_prelu_f32: out = clamp(x >= 0 ? x : x * slope) with the slope (operand b) broadcast
 * against x (operand a), as the other binary kernels (kernels.h). */
#include "binary.h"

ES_BINARY_KERNEL(es_prelu_f32, x >= 0.0f ? x : x * y)
