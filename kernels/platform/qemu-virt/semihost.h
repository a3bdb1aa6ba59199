/* Arm semihosting calls (QEMU: -semihosting-config enable=on,target=native). Only what the
 * platform needs: console, one output file, exit. */
#ifndef EDGESPEC_QEMU_VIRT_SEMIHOST_H
#define EDGESPEC_QEMU_VIRT_SEMIHOST_H

#include <stdint.h>

/* Writes a NUL-terminated string to QEMU's semihosting console. */
void es_semihost_write0(const char *text);

/* Opens `path` on the host for binary writing (truncating); returns a handle or -1. */
int64_t es_semihost_open_write(const char *path);
/* Opens `path` on the host for binary reading; returns a handle or -1. */
int64_t es_semihost_open_read(const char *path);
/* Reads up to `len` bytes (QEMU makes one host read(): a pipe gives what it holds, waiting
 * for at least one byte); returns the count read, 0 at the end, or -1. */
int64_t es_semihost_read(int64_t handle, void *data, uint64_t len);
/* Writes all `len` bytes; returns 0 on success. */
int es_semihost_write(int64_t handle, const void *data, uint64_t len);
int es_semihost_close(int64_t handle);
/* Removes a host file; returns 0 on success (also fails when there was none). */
int es_semihost_remove(const char *path);
/* Renames a host file; returns 0 on success. */
int es_semihost_rename(const char *from, const char *to);
/* QEMU's command line for the program (the -kernel path, then -append's words), NUL-terminated
 * in `buffer`; returns 0, or -1 when it does not fit or QEMU gives none. */
int es_semihost_cmdline(char *buffer, uint32_t size);
/* Ends QEMU with exit status `code`. */
__attribute__((noreturn)) void es_semihost_exit(uint32_t code);

#endif
