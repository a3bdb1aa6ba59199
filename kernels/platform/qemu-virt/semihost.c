#include "semihost.h"

enum {
  SYS_OPEN = 0x01,
  SYS_CLOSE = 0x02,
  SYS_WRITE0 = 0x04,
  SYS_WRITE = 0x05,
  SYS_REMOVE = 0x0e,
  SYS_RENAME = 0x0f,
  SYS_GET_CMDLINE = 0x15,
  SYS_READ = 0x06,
  SYS_EXIT = 0x18,
  OPEN_MODE_RB = 1, /* fopen mode "rb" */
  OPEN_MODE_WB = 5, /* fopen mode "wb" */
  ADP_STOPPED_APPLICATION_EXIT = 0x20026,
};

static uint64_t call(uint64_t op, const void *arg) {
  register uint64_t x0 __asm__("x0") = op;
  register const void *x1 __asm__("x1") = arg;
  __asm__ volatile("hlt #0xf000" : "+r"(x0) : "r"(x1) : "memory");
  return x0;
}

static uint64_t string_length(const char *s) {
  uint64_t n = 0;
  while (s[n]) n++;
  return n;
}

void es_semihost_write0(const char *text) { call(SYS_WRITE0, text); }

int64_t es_semihost_open_write(const char *path) {
  const uint64_t block[3] = {(uint64_t)(uintptr_t)path, OPEN_MODE_WB, string_length(path)};
  return (int64_t)call(SYS_OPEN, block);
}

int64_t es_semihost_open_read(const char *path) {
  const uint64_t block[3] = {(uint64_t)(uintptr_t)path, OPEN_MODE_RB, string_length(path)};
  return (int64_t)call(SYS_OPEN, block);
}

int64_t es_semihost_read(int64_t handle, void *data, uint64_t len) {
  const uint64_t block[3] = {(uint64_t)handle, (uint64_t)(uintptr_t)data, len};
  const int64_t not_read = (int64_t)call(SYS_READ, block);
  return not_read < 0 || (uint64_t)not_read > len ? -1 : (int64_t)(len - (uint64_t)not_read);
}

int es_semihost_write(int64_t handle, const void *data, uint64_t len) {
  const uint64_t block[3] = {(uint64_t)handle, (uint64_t)(uintptr_t)data, len};
  return call(SYS_WRITE, block) == 0 ? 0 : -1; /* returns the count NOT written */
}

int es_semihost_close(int64_t handle) {
  const uint64_t block[1] = {(uint64_t)handle};
  return call(SYS_CLOSE, block) == 0 ? 0 : -1;
}

int es_semihost_remove(const char *path) {
  const uint64_t block[2] = {(uint64_t)(uintptr_t)path, string_length(path)};
  return call(SYS_REMOVE, block) == 0 ? 0 : -1;
}

int es_semihost_rename(const char *from, const char *to) {
  const uint64_t block[4] = {(uint64_t)(uintptr_t)from, string_length(from),
                             (uint64_t)(uintptr_t)to, string_length(to)};
  return call(SYS_RENAME, block) == 0 ? 0 : -1;
}

void es_semihost_exit(uint32_t code) {
  const uint64_t block[2] = {ADP_STOPPED_APPLICATION_EXIT, code};
  for (;;) call(SYS_EXIT, block);
}

int es_semihost_cmdline(char *buffer, uint32_t size) {
  uint64_t block[2] = {(uint64_t)(uintptr_t)buffer, size};
  return call(SYS_GET_CMDLINE, block) == 0 ? 0 : -1;
}
