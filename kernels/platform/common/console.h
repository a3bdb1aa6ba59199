/* Builds one console line at a time without printf (keeps libc's formatter out of the
 * image) and writes it with the platform's es_console_write (bare-metal platforms:
 * qemu-virt through semihosting, rpi3 on its UART). */
#ifndef EDGESPEC_PLATFORM_CONSOLE_H
#define EDGESPEC_PLATFORM_CONSOLE_H

#include <stdint.h>

typedef struct {
  char text[400];
  uint32_t len;
} es_line;

void es_line_start(es_line *line);             /* starts with "edgespec: " */
void es_line_str(es_line *line, const char *s);
void es_line_dec(es_line *line, uint64_t v);
void es_line_hex(es_line *line, uint64_t v);   /* 0x-prefixed */
void es_line_end(es_line *line);               /* adds "\n" and writes the line */

/* Provided by the platform: writes a NUL-terminated text to its console. */
void es_console_write(const char *text);
/* Provided by the platform: ends the run with `code` (es_exit_code): exits QEMU, or parks. */
__attribute__((noreturn)) void es_platform_exit(uint32_t code);

#endif
