/* Per-step profile of a profiling build (edgespec build --profile).
 *
 * The generated model.c defines es_profile: one mark before the first step and one after
 * each step, taken with es_profile_now(). The platform calls es_profile_report() after the
 * inference it reports (outside its own invoke measurement) when a profiling build linked
 * platform/common/profile.c, which prints, per step:
 *   edgespec: profile: unit=instructions|ns steps=N
 *   edgespec: profile: step=I count=C
 * Bare metal (qemu-virt): guest instructions from cntvct_el0 under -icount shift=0.
 * Hosted (host, linux): CLOCK_MONOTONIC nanoseconds. */
#ifndef EDGESPEC_PROFILE_H
#define EDGESPEC_PROFILE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
  uint32_t steps;            /* marks holds steps + 1 values */
  uint64_t *marks;
} es_profile_info;

extern const es_profile_info es_profile;

uint64_t es_profile_now(void);

/* Weak: linked only into profiling builds; a platform calls it when it is there. */
void es_profile_report(void) __attribute__((weak));

#ifdef __cplusplus
}
#endif

#endif
