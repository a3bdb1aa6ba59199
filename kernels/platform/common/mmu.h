/* The parts of an identity-mapped MMU that every bare-metal platform shares: descriptor
 * bits, the memory attributes (MAIR index 0 Device-nGnRnE, index 1 Normal write-back) and
 * turning translation and the caches on at EL1. Each platform fills its own tables (its
 * memory map) in its mmu.c, with the MMU off: aligned 8-byte stores only. */
#ifndef EDGESPEC_PLATFORM_MMU_H
#define EDGESPEC_PLATFORM_MMU_H

#include <stdint.h>

enum {
  ES_DESC_BLOCK = 1u << 0,
  ES_DESC_TABLE = 3u << 0,
  ES_ATTR_DEVICE = 0u << 2, /* MAIR index 0 */
  ES_ATTR_NORMAL = 1u << 2, /* MAIR index 1 */
  ES_AP_READ_ONLY = 2u << 6,
  ES_SH_INNER = 3u << 8,
  ES_AF = 1u << 10,
};
#define ES_XN ((1ull << 53) | (1ull << 54))
#define ES_GIB (1ull << 30)
#define ES_BLOCK_2M (1ull << 21)

/* 2 MiB blocks of the three kinds a platform maps. */
#define ES_BLOCK_CODE (ES_DESC_BLOCK | ES_ATTR_NORMAL | ES_AP_READ_ONLY | ES_SH_INNER | ES_AF)
#define ES_BLOCK_DATA (ES_DESC_BLOCK | ES_ATTR_NORMAL | ES_SH_INNER | ES_AF | ES_XN)
#define ES_BLOCK_DEVICE (ES_DESC_BLOCK | ES_ATTR_DEVICE | ES_AF | ES_XN)

/* Loads MAIR/TCR/TTBR0 for 39-bit virtual addresses (the walk starts at level 1: `l1` has
 * 512 entries of 1 GiB), invalidates the TLB and the instruction cache, and sets
 * SCTLR_EL1.M, C and I (alignment checks off). */
void es_mmu_turn_on(const uint64_t *l1);

#endif
