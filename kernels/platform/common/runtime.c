/* What picolibc's crt0 would do after reset, minus the stack and FPU (start.S): copy
 * initialized data, clear bss, point the thread pointer at the TLS block (errno lives
 * there), run constructors. */
#include <stdint.h>
#include <string.h>

extern char __es_data_start[], __es_data_end[], __es_data_source[];
extern char __es_bss_start[], __es_bss_end[];
extern char __tls_base[], __es_tls_tcb_offset[];

void __libc_init_array(void);

void es_runtime_init(void) {
  memcpy(__es_data_start, __es_data_source, (size_t)(__es_data_end - __es_data_start));
  memset(__es_bss_start, 0, (size_t)(__es_bss_end - __es_bss_start));
  const uint64_t tp = (uint64_t)(uintptr_t)__tls_base - (uint64_t)(uintptr_t)__es_tls_tcb_offset;
  __asm__ volatile("msr tpidr_el0, %0" : : "r"(tp));
  __libc_init_array();
}
