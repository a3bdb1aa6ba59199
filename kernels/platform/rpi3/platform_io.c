/* rpi3's console and end of run (common/console.h): the console is the UART, and a
 * finished or failed run parks the core (real hardware has nothing to exit to; under QEMU
 * the host ends QEMU once it has read the status line). */
#include <stdint.h>

#include "../common/console.h"
#include "uart.h"

void es_console_write(const char *text) {
  uint32_t n = 0;
  while (text[n]) n++;
  es_uart_write(text, n);
}

void es_platform_exit(uint32_t code) {
  (void)code;
  __asm__ volatile("msr daifset, #0xf");
  for (;;) __asm__ volatile("wfe");
}

/* libc's exit and abort end here (the model calls neither). */
__attribute__((noreturn)) void _exit(int code) {
  es_line line;
  es_line_start(&line);
  es_line_str(&line, "status=failed exit=");
  es_line_dec(&line, (uint64_t)(uint32_t)code);
  es_line_end(&line);
  es_platform_exit((uint32_t)code);
}
