/* Reports a CPU exception and ends the run with ES_EXIT_FAULT:
 *   edgespec: fault: synchronous exception: data abort (same EL), translation fault level 2, read
 *   edgespec: fault: ec=0x25 esr=0x96000006 far=0x... elr=0x... symbol=name+0x1c
 *   edgespec: status=failed exit=3
 * Called from vectors.S on a stack of its own; the platform runs at EL1 (or EL2) and provides
 * es_console_write and es_platform_exit (console.h). */
#include <stdint.h>

#include "console.h"
#include "edgespec/platform.h"

extern char __es_stack_guard_start[], __es_stack_guard_end[];
extern char __es_stack_size[];

static const char *exception_class_name(uint32_t ec) {
  switch (ec) {
    case 0x00: return "unknown reason (undefined instruction)";
    case 0x01: return "trapped WFI/WFE";
    case 0x07: return "trapped SIMD/FP access";
    case 0x0e: return "illegal execution state";
    case 0x15: return "SVC instruction";
    case 0x18: return "trapped system register access";
    case 0x20: return "instruction abort (lower EL)";
    case 0x21: return "instruction abort (same EL)";
    case 0x22: return "PC alignment fault";
    case 0x24: return "data abort (lower EL)";
    case 0x25: return "data abort (same EL)";
    case 0x26: return "SP alignment fault";
    case 0x2c: return "trapped floating-point exception";
    case 0x2f: return "SError";
    case 0x30: case 0x31: return "breakpoint";
    case 0x32: case 0x33: return "software step";
    case 0x34: case 0x35: return "watchpoint";
    case 0x3c: return "BRK instruction (trap or abort)";
    default: return "other exception class";
  }
}

/* Data and instruction fault status code, ESR.ISS[5:0]. */
static const char *fault_status_name(uint32_t fsc) {
  switch (fsc & 0x3c) {
    case 0x04: return "translation fault level ";
    case 0x08: return "access flag fault level ";
    case 0x0c: return "permission fault level ";
    default: break;
  }
  if (fsc == 0x21) return "alignment fault";
  if (fsc == 0x10) return "synchronous external abort";
  return "fault status ";
}

static void append_symbol(es_line *line, uint64_t pc) {
  uint32_t lo = 0, hi = es_symbol_count;
  while (lo < hi) { /* first entry with addr > pc */
    uint32_t mid = lo + (hi - lo) / 2;
    if (es_symbols[mid].addr <= pc) lo = mid + 1;
    else hi = mid;
  }
  if (lo == 0 || (es_symbols[lo - 1].size != 0 && pc >= es_symbols[lo - 1].addr + es_symbols[lo - 1].size)) {
    es_line_str(line, es_symbol_count ? "?" : "? (no symbol table linked)");
    return;
  }
  const es_symbol *s = &es_symbols[lo - 1];
  es_line_str(line, es_symbol_names + s->name_offset);
  es_line_str(line, "+");
  es_line_hex(line, pc - s->addr);
}

/* Where the image runs relative to the addresses it was linked at: 0 for images loaded at
 * their link address; a relocatable image (efi) defines it, and the symbol table, which
 * holds link addresses, is searched with the difference taken off. */
__attribute__((weak)) uint64_t es_image_load_offset(void) { return 0; }

static void report(uint64_t vector_index) {
  uint64_t esr, far, elr, el;
  __asm__ volatile("mrs %0, CurrentEL" : "=r"(el));
  if (((el >> 2) & 3) == 2) { /* a platform (or firmware) that runs at EL2 */
    __asm__ volatile("mrs %0, esr_el2" : "=r"(esr));
    __asm__ volatile("mrs %0, far_el2" : "=r"(far));
    __asm__ volatile("mrs %0, elr_el2" : "=r"(elr));
  } else {
    __asm__ volatile("mrs %0, esr_el1" : "=r"(esr));
    __asm__ volatile("mrs %0, far_el1" : "=r"(far));
    __asm__ volatile("mrs %0, elr_el1" : "=r"(elr));
  }
  const uint32_t ec = (uint32_t)(esr >> 26) & 0x3f;
  const uint32_t kind = (uint32_t)(vector_index & 3);
  static const char *const kinds[4] = {"synchronous exception", "unexpected IRQ",
                                       "unexpected FIQ", "SError"};
  es_line line;

  es_line_start(&line);
  es_line_str(&line, "fault: ");
  es_line_str(&line, kinds[kind]);
  if (kind == 0) {
    es_line_str(&line, ": ");
    es_line_str(&line, exception_class_name(ec));
    if (ec == 0x20 || ec == 0x21 || ec == 0x24 || ec == 0x25) {
      const uint32_t fsc = (uint32_t)esr & 0x3f;
      es_line_str(&line, ", ");
      es_line_str(&line, fault_status_name(fsc));
      if ((fsc & 0x30) == 0 && fsc >= 4) es_line_dec(&line, fsc & 3);
      else if (fsc != 0x21 && fsc != 0x10) es_line_hex(&line, fsc);
      if (ec == 0x24 || ec == 0x25) es_line_str(&line, (esr >> 6) & 1 ? ", write" : ", read");
    }
  }
  es_line_end(&line);

  es_line_start(&line);
  es_line_str(&line, "fault: ec=");
  es_line_hex(&line, ec);
  es_line_str(&line, " esr=");
  es_line_hex(&line, esr);
  es_line_str(&line, " far=");
  es_line_hex(&line, far);
  es_line_str(&line, " elr=");
  es_line_hex(&line, elr);
  const uint64_t load_offset = es_image_load_offset();
  if (load_offset) {
    es_line_str(&line, " load_offset=");
    es_line_hex(&line, load_offset);
  }
  es_line_str(&line, " symbol=");
  append_symbol(&line, elr - load_offset);
  es_line_end(&line);

  const uint64_t guard_start = (uint64_t)(uintptr_t)__es_stack_guard_start;
  const uint64_t guard_end = (uint64_t)(uintptr_t)__es_stack_guard_end;
  if ((ec == 0x24 || ec == 0x25) && far >= guard_start && far < guard_end) {
    es_line_start(&line);
    es_line_str(&line, "fault: stack overflow: the ");
    es_line_dec(&line, (uint64_t)(uintptr_t)__es_stack_size);
    es_line_str(&line, "-byte stack ran into its guard; link with a larger --defsym=__es_stack_size=");
    es_line_end(&line);
  }
}

__attribute__((noreturn)) void es_exception_report(uint64_t vector_index) {
  static volatile uint32_t entered;
  if (!entered) { /* a fault while reporting must not loop */
    entered = 1;
    report(vector_index);
    es_console_write("edgespec: status=failed exit=3\n");
  }
  es_platform_exit(3);
}
