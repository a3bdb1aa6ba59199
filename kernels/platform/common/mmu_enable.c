#include "mmu.h"

#define MAIR_VALUE 0xff00ull /* attr0 Device-nGnRnE, attr1 Normal WB RW-allocate */
/* T0SZ=25 (39-bit VA, walk starts at level 1), inner/outer WB, inner shareable, 4 KiB
 * granule, no TTBR1 walks (EPD1), 36-bit physical addresses. */
#define TCR_VALUE (25ull | (1ull << 8) | (1ull << 10) | (3ull << 12) | (1ull << 23) | (1ull << 32))
#define SCTLR_M (1ull << 0)
#define SCTLR_A (1ull << 1)
#define SCTLR_C (1ull << 2)
#define SCTLR_I (1ull << 12)

void es_mmu_turn_on(const uint64_t *l1) {
  uint64_t sctlr;
  __asm__ volatile("dsb ish\n\t"
                   "msr mair_el1, %1\n\t"
                   "msr tcr_el1, %2\n\t"
                   "msr ttbr0_el1, %3\n\t"
                   "isb\n\t"
                   "tlbi vmalle1\n\t"
                   "ic iallu\n\t"
                   "dsb ish\n\t"
                   "isb\n\t"
                   "mrs %0, sctlr_el1"
                   : "=&r"(sctlr)
                   : "r"(MAIR_VALUE), "r"(TCR_VALUE), "r"((uint64_t)(uintptr_t)l1)
                   : "memory");
  sctlr = (sctlr | SCTLR_M | SCTLR_C | SCTLR_I) & ~SCTLR_A;
  __asm__ volatile("msr sctlr_el1, %0\n\tisb" : : "r"(sctlr) : "memory");
}
