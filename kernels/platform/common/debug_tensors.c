/* The platform half of a debug build (edgespec/debug_tensors.h): the file the generated model
 * writes its intermediate tensors to. */
/* Bare metal is picolibc's (qemu-virt); its compiler is aarch64-linux-gnu-gcc too, so
 * __linux__ cannot tell the two apart. */
#if defined(__aarch64__) && defined(__has_include)
#if __has_include(<picolibc.h>)
#define ES_DEBUG_BARE_METAL 1
#endif
#endif
#include "edgespec/debug_tensors.h"

/* 0: not opened yet; 1: tracing; 2: finished (later inferences are not traced); 3: failed. */
static int state;
static int failed;

#ifdef ES_DEBUG_BARE_METAL
int64_t es_semihost_open_write(const char *path);
int es_semihost_write(int64_t handle, const void *data, uint64_t len);
int es_semihost_close(int64_t handle);

static int64_t handle = -1;

static int open_file(void) {
  handle = es_semihost_open_write(ES_DEBUG_FILE);
  return handle < 0 ? -1 : 0;
}
static int write_bytes(const void *data, uint64_t len) { return es_semihost_write(handle, data, len); }
static int close_file(void) { return es_semihost_close(handle); }
#else
#include <stdio.h>

static FILE *file;

static int open_file(void) {
  file = fopen(ES_DEBUG_FILE, "wb");
  return file ? 0 : -1;
}
static int write_bytes(const void *data, uint64_t len) {
  return fwrite(data, 1, (size_t)len, file) == (size_t)len ? 0 : -1;
}
static int close_file(void) { return fclose(file) == 0 ? 0 : -1; }
#endif

static void write_record(uint32_t step, uint32_t index, const void *data, uint32_t bytes) {
  const uint32_t header[4] = {ES_DEBUG_MAGIC, step, index, bytes};
  if (write_bytes(header, sizeof header) != 0) failed = 1;
  if (bytes && write_bytes(data, bytes) != 0) failed = 1;
}

void es_debug_tensor(uint32_t step, uint32_t index, const void *data, uint32_t bytes) {
  if (state == 0) state = open_file() == 0 ? 1 : 3;
  if (state != 1) return;
  write_record(step, index, data, bytes);
}

int es_debug_tensors_finish(void) {
  if (state == 0) state = open_file() == 0 ? 1 : 3;
  if (state == 1) {
    write_record(ES_DEBUG_END_STEP, 0, 0, 0);
    if (close_file() != 0) failed = 1;
    state = 2;
  }
  return state == 3 || failed ? -1 : 0;
}
