/* Run-time indices of es_take_f32 / es_take_s8: read from an int32 or int64 tensor as the
 * framework gives it, each checked against the size of the axis it selects along. */
#ifndef EDGESPEC_TAKE_INDICES_H
#define EDGESPEC_TAKE_INDICES_H

#include <stdint.h>

#include "edgespec/model.h"

static inline int64_t es_take_index(const void *indices, int32_t index_bytes, int32_t k) {
  return index_bytes == 8 ? ((const int64_t *)indices)[k] : (int64_t)((const int32_t *)indices)[k];
}

/* 0 when every index lies in [0, axis) (or [-axis, axis) with allow_negative); else the
 * first one that does not is described in *fault and the result is 1. */
static inline int es_take_check(const void *indices, int32_t index_bytes, int32_t count, int32_t axis,
                                int32_t allow_negative, es_input_fault *fault, const char *tensor) {
  const int64_t low = allow_negative ? -(int64_t)axis : 0;
  for (int32_t k = 0; k < count; k++) {
    const int64_t index = es_take_index(indices, index_bytes, k);
    if (index < low || index >= axis) {
      fault->tensor = tensor;
      fault->position = k;
      fault->index = index;
      fault->low = low;
      fault->bound = axis;
      return 1;
    }
  }
  return 0;
}

#endif
