/* es_copy_f32: dense copy (a reshape whose output cannot share its input's buffer). */
#include <string.h>

#include "internal.h"

void es_copy_f32(const float *in, float *out, int32_t count) {
  if (count > 0 && in != out) memmove(out, in, (size_t)count * sizeof(float));
}
