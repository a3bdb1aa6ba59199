/* es_take_s8: es_take_f32 on int8 codes (the output keeps the table's quantization, as
 * TFLite's int8 GATHER); the indices stay integers. */
#include <string.h>

#include "edgespec/kernels_int8.h"
#include "edgespec/take_indices.h"

/* The fault the model reports (edgespec/model.h); weak, as the fp32 and int8 kernels both hold it. */
__attribute__((weak)) es_input_fault es_model_input_fault;

int es_take_s8(const int8_t *in, int8_t *out, int32_t outer, int32_t axis, int32_t inner,
               const void *indices, int32_t index_bytes, int32_t count, int32_t allow_negative,
               es_input_fault *fault, const char *tensor) {
  if (es_take_check(indices, index_bytes, count, axis, allow_negative, fault, tensor) != 0) return 1;
  for (int32_t k = 0; k < count; k++) {
    int64_t index = es_take_index(indices, index_bytes, k);
    if (index < 0) index += axis;
    for (int32_t o = 0; o < outer; o++)
      memcpy(out + ((size_t)o * count + k) * inner, in + ((size_t)o * axis + (size_t)index) * inner, (size_t)inner);
  }
  return 0;
}
