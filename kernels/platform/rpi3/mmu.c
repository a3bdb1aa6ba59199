/* The Raspberry Pi 3's memory map (BCM2837), identity-mapped with 2 MiB blocks, set up
 * before any other C code runs (common/mmu_enable.c turns it on).
 *
 *   0 .. image end                 Normal write-back, read-only, executable (the firmware's
 *                                  stub below 0x80000, code, weights)
 *   RAM region .. its end          Normal write-back, read-write, never executable
 *     stack guard (2 MiB)          unmapped: a stack overflow faults instead of corrupting
 *   0x3F000000 .. 0x40000000       Device-nGnRnE: the peripherals (UART, GPIO, ...)
 *   0x40000000 .. 0x80000000       Device-nGnRnE: the ARM local peripherals (0x40000000)
 *   everything else                unmapped: the GPU's memory and what is not there fault
 *
 * Runs with the MMU off, so it only makes aligned 8-byte stores. */
#include <stdint.h>

#include "../common/mmu.h"

#define PERIPHERALS_BASE 0x3F000000ull

extern char __es_image_end[], __es_ram_base[], __es_ram_region_end[];
extern char __es_stack_guard_start[], __es_stack_guard_end[];
extern uint64_t __es_page_table_l1[512], __es_page_table_l2[512];

static uint64_t l2_descriptor(uint64_t addr) {
  const uint64_t image_end = (uint64_t)(uintptr_t)__es_image_end;
  const uint64_t ram_start = (uint64_t)(uintptr_t)__es_ram_base;
  const uint64_t ram_end = (uint64_t)(uintptr_t)__es_ram_region_end;
  const uint64_t guard_start = (uint64_t)(uintptr_t)__es_stack_guard_start;
  const uint64_t guard_end = (uint64_t)(uintptr_t)__es_stack_guard_end;
  if (addr >= guard_start && addr < guard_end) return 0;
  if (addr < image_end) return addr | ES_BLOCK_CODE;
  if (addr >= ram_start && addr < ram_end) return addr | ES_BLOCK_DATA;
  if (addr >= PERIPHERALS_BASE) return addr | ES_BLOCK_DEVICE;
  return 0;
}

/* volatile stores keep the compiler from turning the loops into memset calls. */
void es_mmu_enable(void) {
  volatile uint64_t *l1 = __es_page_table_l1, *l2 = __es_page_table_l2;
  for (uint64_t i = 0; i < 512; i++) l2[i] = l2_descriptor(i * ES_BLOCK_2M);
  for (uint64_t i = 0; i < 512; i++) {
    uint64_t d = 0;
    if (i == 0) d = (uint64_t)(uintptr_t)__es_page_table_l2 | ES_DESC_TABLE;
    else if (i == 1) d = ES_GIB | ES_BLOCK_DEVICE;
    l1[i] = d;
  }
  es_mmu_turn_on(__es_page_table_l1);
}
