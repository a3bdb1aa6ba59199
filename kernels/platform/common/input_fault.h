/* The text of an input fault (edgespec/model.h: an index outside the axis it selects along),
 * the same on every platform: "input ids: index 12 (element 2) is outside [0, 12), the size
 * of the axis it selects along". Freestanding: the platforms' consoles and the serving loop's
 * ERROR frames take it; the host runner prints the same words with printf. */
#ifndef EDGESPEC_PLATFORM_INPUT_FAULT_H
#define EDGESPEC_PLATFORM_INPUT_FAULT_H

#include <stdint.h>

#include "edgespec/model.h"

typedef struct {
  char *out;
  uint32_t size, len;
} es_fault_text;

static inline void es_fault_put(es_fault_text *t, const char *s) {
  while (*s && t->len + 1 < t->size) t->out[t->len++] = *s++;
  t->out[t->len] = '\0';
}

static inline void es_fault_put_i64(es_fault_text *t, int64_t v) {
  char digits[21];
  int n = 0;
  uint64_t u = v < 0 ? 0u - (uint64_t)v : (uint64_t)v;
  do {
    digits[n++] = (char)('0' + u % 10);
    u /= 10;
  } while (u);
  if (v < 0) digits[n++] = '-';
  while (n && t->len + 1 < t->size) t->out[t->len++] = digits[--n];
  t->out[t->len] = '\0';
}

/* Appends the fault's text to out (size bytes, NUL-terminated, already holding `len` bytes of text). */
static inline uint32_t es_input_fault_text(const es_input_fault *f, char *out, uint32_t size, uint32_t len) {
  es_fault_text t = {out, size, len};
  if (size == 0 || len >= size) return len;
  es_fault_put(&t, "input ");
  es_fault_put(&t, f->tensor);
  es_fault_put(&t, ": index ");
  es_fault_put_i64(&t, f->index);
  es_fault_put(&t, " (element ");
  es_fault_put_i64(&t, f->position);
  es_fault_put(&t, ") is outside [");
  es_fault_put_i64(&t, f->low);
  es_fault_put(&t, ", ");
  es_fault_put_i64(&t, f->bound);
  es_fault_put(&t, "), the size of the axis it selects along");
  return t.len;
}

#endif
