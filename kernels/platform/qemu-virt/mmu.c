/* Identity-mapped MMU with 2 MiB blocks, set up before any other C code runs.
 *
 *   0 .. 1 GiB                    Device-nGnRnE (virt's devices), never executable
 *   1 GiB .. image end            Normal write-back, read-only, executable (code, weights)
 *   stack guard (2 MiB)           unmapped: a stack overflow faults instead of corrupting
 *   rest of 1 GiB .. 4 GiB        Normal write-back, read-write, never executable
 *
 * Runs with the MMU off, so it only makes aligned 8-byte stores. */
#include <stdint.h>

extern char __es_image_start[], __es_image_end[];
extern char __es_stack_guard_start[], __es_stack_guard_end[];
extern uint64_t __es_page_table_l1[512], __es_page_table_l2[512];

enum {
  DESC_BLOCK = 1u << 0,
  DESC_TABLE = 3u << 0,
  ATTR_DEVICE = 0u << 2, /* MAIR index 0 */
  ATTR_NORMAL = 1u << 2, /* MAIR index 1 */
  AP_READ_ONLY = 2u << 6,
  SH_INNER = 3u << 8,
  AF = 1u << 10,
};
#define XN ((1ull << 53) | (1ull << 54))
#define GIB (1ull << 30)
#define BLOCK_2M (1ull << 21)

#define MAIR_VALUE 0xff00ull /* attr0 Device-nGnRnE, attr1 Normal WB RW-allocate */
/* T0SZ=25 (39-bit VA, walk starts at level 1), inner/outer WB, inner shareable, 4 KiB
 * granule, no TTBR1 walks (EPD1), 36-bit physical addresses. */
#define TCR_VALUE (25ull | (1ull << 8) | (1ull << 10) | (3ull << 12) | (1ull << 23) | (1ull << 32))
#define SCTLR_M (1ull << 0)
#define SCTLR_A (1ull << 1)
#define SCTLR_C (1ull << 2)
#define SCTLR_I (1ull << 12)

static uint64_t l2_descriptor(uint64_t addr) {
  const uint64_t image_start = (uint64_t)(uintptr_t)__es_image_start & ~(BLOCK_2M - 1);
  const uint64_t image_end = (uint64_t)(uintptr_t)__es_image_end;
  const uint64_t guard_start = (uint64_t)(uintptr_t)__es_stack_guard_start;
  const uint64_t guard_end = (uint64_t)(uintptr_t)__es_stack_guard_end;
  if (addr >= guard_start && addr < guard_end) return 0;
  if (addr >= image_start && addr < image_end)
    return addr | DESC_BLOCK | ATTR_NORMAL | AP_READ_ONLY | SH_INNER | AF;
  return addr | DESC_BLOCK | ATTR_NORMAL | SH_INNER | AF | XN;
}

/* volatile stores keep the compiler from turning the loops into memset calls. */
void es_mmu_enable(void) {
  volatile uint64_t *l1 = __es_page_table_l1, *l2 = __es_page_table_l2;
  for (uint64_t i = 0; i < 512; i++) l2[i] = l2_descriptor(GIB + i * BLOCK_2M);
  for (uint64_t i = 0; i < 512; i++) {
    uint64_t d = 0;
    if (i == 0) d = DESC_BLOCK | ATTR_DEVICE | AF | XN;
    else if (i == 1) d = (uint64_t)(uintptr_t)__es_page_table_l2 | DESC_TABLE;
    else if (i < 4) d = i * GIB | DESC_BLOCK | ATTR_NORMAL | SH_INNER | AF | XN;
    l1[i] = d;
  }

  uint64_t sctlr;
  __asm__ volatile("dsb ish\n\t"
                   "msr mair_el1, %1\n\t"
                   "msr tcr_el1, %2\n\t"
                   "msr ttbr0_el1, %3\n\t"
                   "isb\n\t"
                   "tlbi vmalle1\n\t"
                   "dsb ish\n\t"
                   "isb\n\t"
                   "mrs %0, sctlr_el1"
                   : "=&r"(sctlr)
                   : "r"(MAIR_VALUE), "r"(TCR_VALUE), "r"((uint64_t)(uintptr_t)__es_page_table_l1)
                   : "memory");
  sctlr = (sctlr | SCTLR_M | SCTLR_C | SCTLR_I) & ~SCTLR_A;
  __asm__ volatile("msr sctlr_el1, %0\n\tisb" : : "r"(sctlr) : "memory");
}
