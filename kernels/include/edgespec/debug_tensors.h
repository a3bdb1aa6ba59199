/* Intermediate tensors of a debug build (edgespec build --debug-tensors).
 *
 * The generated model.c calls es_debug_tensor after each step, once for each tensor the
 * step writes, in the order build.json's debug_tensors.dumps lists them. The platform links
 * platform/common/debug_tensors.c, which appends each one to debug-tensors.bin (in QEMU's
 * working directory through semihosting on qemu-virt; in the current directory on host and
 * linux), and calls es_debug_tensors_finish() after the first inference. The file, little-endian:
 *
 *   per dump:  uint32 magic 0x54445345 ("ESDT"), uint32 step, uint32 index (which write of
 *              the step), uint32 bytes, then the tensor's bytes as they are in memory
 *   at the end: the same 16-byte record with step 0xFFFFFFFF and bytes 0
 *
 * A file without the end record is the trace of an inference that did not finish. Only the
 * first inference is traced (the host runner may repeat it for timing). */
#ifndef EDGESPEC_DEBUG_TENSORS_H
#define EDGESPEC_DEBUG_TENSORS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ES_DEBUG_MAGIC 0x54445345u
#define ES_DEBUG_END_STEP 0xFFFFFFFFu
#define ES_DEBUG_FILE "debug-tensors.bin"

void es_debug_tensor(uint32_t step, uint32_t index, const void *data, uint32_t bytes);

/* Weak: linked only into debug builds. Writes the end record and closes the file; returns 0,
 * or non-zero when the file could not be written. */
int es_debug_tensors_finish(void) __attribute__((weak));

#ifdef __cplusplus
}
#endif

#endif
