/* Builds one console line at a time without printf (keeps libc's formatter out of the
 * image) and writes it through semihosting. */
#ifndef EDGESPEC_QEMU_VIRT_CONSOLE_H
#define EDGESPEC_QEMU_VIRT_CONSOLE_H

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

#endif
