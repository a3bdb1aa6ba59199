/* es_pow_tensor_f32: out = clamp(powf(a, b)) with broadcasting (kernels.h): both the base and
 * the exponent are tensors computed at run time. C powf: NaN for a negative base and a
 * non-integer exponent, as PyTorch, ONNX and TFLite give. */
#include "binary.h"

ES_BINARY_KERNEL(es_pow_tensor_f32, powf(x, y))
