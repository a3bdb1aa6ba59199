/* Faults on purpose, to check that the qemu-virt platform reports them (exception class,
 * addresses, the function they happened in) and ends QEMU with exit status 3 instead of
 * hanging. Build with -DFAULT=1 (load from an unmapped address), 2 (stack overflow into the
 * guard), 3 (undefined instruction) or 4 (write to the read-only image). */
#include <stdint.h>
#include <stdio.h>

__attribute__((noinline)) int fault_read_unmapped(uintptr_t address) {
  return *(volatile int *)address;
}

__attribute__((noinline)) int fault_recurse(int depth) {
  volatile char frame[512];
  frame[0] = (char)depth;
  return fault_recurse(depth + 1) + frame[0];
}

__attribute__((noinline)) void fault_undefined_instruction(void) { __asm__ volatile("udf #0x2a"); }

static const int read_only_value = 5;

__attribute__((noinline)) void fault_write_read_only(volatile int *p) { *p = 6; }

int main(void) {
  printf("fault test %d starting\n", FAULT);
  fflush(stdout);
#if FAULT == 1
  return fault_read_unmapped((uintptr_t)0x400000000ull); /* 16 GiB: nothing there */
#elif FAULT == 2
  return fault_recurse(0);
#elif FAULT == 3
  fault_undefined_instruction();
#elif FAULT == 4
  fault_write_read_only((volatile int *)&read_only_value);
#endif
  printf("fault test %d: no fault happened\n", FAULT);
  return 0;
}
