/* The taps of a window that lie inside the input, for es_max_pool2d_f32, es_max_pool2d_s8
 * and es_conv2d_s8's patch gather (not part of the kernel API). */
#ifndef EDGESPEC_POOL_WINDOW_H
#define EDGESPEC_POOL_WINDOW_H

#include <stdint.h>

/* Along one axis: a window of `kernel` taps `dilation` apart starting at input position
 * `start` (negative in the padding) over an input of `size`: taps [*first, *end) are inside,
 * none when *first >= *end. */
static inline void es_pool_taps_inside(int32_t start, int32_t size, int32_t kernel, int32_t dilation,
                                       int32_t *first, int32_t *end) {
  *first = start < 0 ? (-start + dilation - 1) / dilation : 0;
  const int32_t inside = start >= size ? 0 : (size - 1 - start) / dilation + 1;
  *end = inside < kernel ? inside : kernel;
}

#endif
