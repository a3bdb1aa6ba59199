#include "console.h"

static void put_char(es_line *line, char c) {
  if (line->len + 2 < sizeof line->text) line->text[line->len++] = c;
}

void es_line_start(es_line *line) {
  line->len = 0;
  es_line_str(line, "edgespec: ");
}

void es_line_str(es_line *line, const char *s) {
  while (*s) put_char(line, *s++);
}

void es_line_dec(es_line *line, uint64_t v) {
  char digits[20];
  int n = 0;
  do {
    digits[n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  while (n) put_char(line, digits[--n]);
}

void es_line_hex(es_line *line, uint64_t v) {
  es_line_str(line, "0x");
  int shift = 60;
  while (shift > 0 && ((v >> shift) & 0xf) == 0) shift -= 4;
  for (; shift >= 0; shift -= 4) put_char(line, "0123456789abcdef"[(v >> shift) & 0xf]);
}

void es_line_end(es_line *line) {
  line->text[line->len++] = '\n';
  line->text[line->len] = '\0';
  es_console_write(line->text);
  line->len = 0;
}
