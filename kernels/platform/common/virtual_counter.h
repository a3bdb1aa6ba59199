/* The AArch64 virtual counter as a guest instruction count: under QEMU's -icount shift=0
 * virtual time advances one nanosecond per instruction. Shared by main.c (whole invoke)
 * and platform/common/profile.c (per step). */
#ifndef EDGESPEC_VIRTUAL_COUNTER_H
#define EDGESPEC_VIRTUAL_COUNTER_H

#include <stdint.h>

static inline uint64_t es_virtual_counter(void) {
  uint64_t v;
  __asm__ volatile("isb\n\tmrs %0, cntvct_el0" : "=r"(v) : : "memory");
  return v;
}

static inline uint64_t es_ticks_to_instructions(uint64_t ticks) {
  uint64_t frequency;
  __asm__ volatile("mrs %0, cntfrq_el0" : "=r"(frequency));
  if (!frequency) return 0;
  /* Split so that no product overflows 64 bits (and no 128-bit division is linked in). */
  return ticks / frequency * 1000000000u + ticks % frequency * 1000000000u / frequency;
}

#endif
