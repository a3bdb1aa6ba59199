/* The efi platform's console: text goes to the firmware's ConOut as UTF-16 ("\n" becomes
 * "\r\n"). Firmware routes ConOut to its serial console (EDK2, U-Boot) and to the screen, so
 * the "edgespec: ..." lines appear on the serial port without the application driving it. */
#include <stdint.h>

#include "../common/console.h"
#include "efi_platform.h"

void es_console_write(const char *text) {
  efi_text_output *out = es_efi_system_table ? es_efi_system_table->con_out : 0;
  if (!out) return;
  efi_char16 chunk[130];
  uint32_t n = 0;
  for (; *text; text++) {
    const unsigned char c = (unsigned char)*text;
    if (c == '\n') chunk[n++] = '\r';
    chunk[n++] = c < 0x80 ? c : '?';
    if (n >= 126) {
      chunk[n] = 0;
      out->output_string(out, chunk);
      n = 0;
    }
  }
  if (n) {
    chunk[n] = 0;
    out->output_string(out, chunk);
  }
}

/* Ends the run: the firmware powers the machine off (QEMU exits). The status is in the
 * console's "edgespec: status=" line; the reset carries it too, as an EFI status. */
__attribute__((noreturn)) void es_platform_exit(uint32_t code) {
  if (es_efi_system_table && es_efi_system_table->runtime_services) {
    es_efi_system_table->runtime_services->reset_system(
        EFI_RESET_SHUTDOWN, code ? (EFI_ERROR_BIT | 21u /* EFI_ABORTED */) : EFI_SUCCESS, 0, 0);
  }
  for (;;) __asm__ volatile("wfi");
}
