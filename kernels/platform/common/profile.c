/* The platform half of a profiling build (edgespec/profile.h): the counter the generated
 * model reads after each step, and the lines that report the per-step counts. */
/* Bare metal is picolibc's (qemu-virt); its compiler is aarch64-linux-gnu-gcc too, so
 * __linux__ cannot tell the two apart. */
#if defined(__aarch64__) && defined(__has_include)
#if __has_include(<picolibc.h>)
#define ES_PROFILE_BARE_METAL 1
#endif
#endif
#ifndef ES_PROFILE_BARE_METAL
#define _POSIX_C_SOURCE 200809L
#endif
#include "edgespec/profile.h"

#ifdef ES_PROFILE_BARE_METAL
/* Bare metal (qemu-virt, rpi3): with -icount shift=0 the virtual counter advances one
 * nanosecond of virtual time per instruction. */
#define ES_PROFILE_UNIT "instructions"
#include "virtual_counter.h"
void es_console_write(const char *text); /* the platform's console (common/console.h) */

uint64_t es_profile_now(void) { return es_virtual_counter(); }

static uint64_t to_count(uint64_t ticks) { return es_ticks_to_instructions(ticks); }

static void write_text(const char *text) { es_console_write(text); }
#else
#include <stdio.h>
#include <time.h>
#define ES_PROFILE_UNIT "ns"

uint64_t es_profile_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t to_count(uint64_t ns) { return ns; }

static void write_text(const char *text) {
  fputs(text, stdout);
  fflush(stdout);
}
#endif

typedef struct {
  char text[96];
  uint32_t len;
} line;

static void put_str(line *l, const char *s) {
  while (*s && l->len + 2 < sizeof l->text) l->text[l->len++] = *s++;
}

static void put_dec(line *l, uint64_t v) {
  char digits[21];
  int n = 0;
  do {
    digits[n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  while (n > 0 && l->len + 2 < sizeof l->text) l->text[l->len++] = digits[--n];
}

static void put_end(line *l) {
  l->text[l->len++] = '\n';
  l->text[l->len] = '\0';
  write_text(l->text);
}

void es_profile_report(void) {
  line l = {.len = 0};
  put_str(&l, "edgespec: profile: unit=" ES_PROFILE_UNIT " steps=");
  put_dec(&l, es_profile.steps);
  put_end(&l);
  for (uint32_t i = 0; i < es_profile.steps; i++) {
    l.len = 0;
    put_str(&l, "edgespec: profile: step=");
    put_dec(&l, i);
    put_str(&l, " count=");
    put_dec(&l, to_count(es_profile.marks[i + 1] - es_profile.marks[i]));
    put_end(&l);
  }
}
