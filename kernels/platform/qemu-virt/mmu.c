/* qemu-virt's memory map, identity-mapped with 2 MiB blocks, set up before any other C
 * code runs (common/mmu_enable.c turns it on). The regions are edgespec.ld's, which the
 * build may have grown to the model (src/toolchain/build/memoryMap.ts), up to 4 GiB:
 *
 *   0 .. 1 GiB                    Device-nGnRnE (virt's devices), never executable
 *   1 GiB .. image end            Normal write-back, read-only, executable (code, weights)
 *   stack guard (2 MiB)           unmapped: a stack overflow faults instead of corrupting
 *   the rest .. input region end  Normal write-back, read-write, never executable
 *   input region end .. 4 GiB     unmapped: past the map (and QEMU's -m) nothing is there
 *
 * Runs with the MMU off, so it only makes aligned 8-byte stores. */
#include <stdint.h>

#include "../common/mmu.h"

/* One level-2 table (512 blocks of 2 MiB) for each GiB from 1 to 4 GiB. */
#define L2_TABLES 3

extern char __es_image_start[], __es_image_end[];
extern char __es_input_base[], __es_input_size[];
extern char __es_stack_guard_start[], __es_stack_guard_end[];
extern uint64_t __es_page_table_l1[512], __es_page_table_l2[L2_TABLES * 512];

static uint64_t l2_descriptor(uint64_t addr) {
  const uint64_t image_start = (uint64_t)(uintptr_t)__es_image_start & ~(ES_BLOCK_2M - 1);
  const uint64_t image_end = (uint64_t)(uintptr_t)__es_image_end;
  const uint64_t map_end = (uint64_t)(uintptr_t)__es_input_base + (uint64_t)(uintptr_t)__es_input_size;
  const uint64_t guard_start = (uint64_t)(uintptr_t)__es_stack_guard_start;
  const uint64_t guard_end = (uint64_t)(uintptr_t)__es_stack_guard_end;
  if (addr >= map_end) return 0;
  if (addr >= guard_start && addr < guard_end) return 0;
  if (addr >= image_start && addr < image_end) return addr | ES_BLOCK_CODE;
  return addr | ES_BLOCK_DATA;
}

/* volatile stores keep the compiler from turning the loops into memset calls. */
void es_mmu_enable(void) {
  volatile uint64_t *l1 = __es_page_table_l1, *l2 = __es_page_table_l2;
  for (uint64_t i = 0; i < L2_TABLES * 512; i++) l2[i] = l2_descriptor(ES_GIB + i * ES_BLOCK_2M);
  for (uint64_t i = 0; i < 512; i++) {
    uint64_t d = 0;
    if (i == 0) d = ES_BLOCK_DEVICE;
    else if (i <= L2_TABLES) d = (uint64_t)(uintptr_t)&__es_page_table_l2[(i - 1) * 512] | ES_DESC_TABLE;
    l1[i] = d;
  }
  es_mmu_turn_on(__es_page_table_l1);
}
