/* The file format of a model's inputs (input.bin, loaded by QEMU or read by the host
 * platform) and outputs (output.bin, written by the platform). Little-endian.
 *
 *   offset  0  char[8]   magic "EDGESPEC"
 *   offset  8  uint32    version = 1
 *   offset 12  uint32    kind: 1 = inputs, 2 = outputs
 *   offset 16  uint32    count: number of tensors, 1 .. ES_MAX_TENSORS
 *   offset 20  uint32    reserved, 0
 *   offset 24  uint32    bytes[count]: byte size of each tensor
 *   zero padding up to data_offset = round_up(24 + 4 * count, 64)
 *   tensor i at data_offset + sum_{j<i} round_up(bytes[j], 64), zero padding after each
 *   file size = data_offset + sum_i round_up(bytes[i], 64)
 *
 * Every tensor therefore starts 64-byte aligned. */
#ifndef EDGESPEC_IO_FORMAT_H
#define EDGESPEC_IO_FORMAT_H

#include <stdint.h>

#include "edgespec/model.h"

#ifdef __cplusplus
extern "C" {
#endif

#define ES_IO_MAGIC "EDGESPEC"
#define ES_IO_VERSION 1u
#define ES_IO_KIND_INPUTS 1u
#define ES_IO_KIND_OUTPUTS 2u
#define ES_IO_ALIGN 64u

typedef struct {
  char magic[8];
  uint32_t version;
  uint32_t kind;
  uint32_t count;
  uint32_t reserved;
  uint32_t bytes[ES_MAX_TENSORS]; /* only the first `count` are part of the file */
} es_io_header;

static inline uint64_t es_io_round_up(uint64_t n) {
  return (n + ES_IO_ALIGN - 1) / ES_IO_ALIGN * ES_IO_ALIGN;
}

static inline uint64_t es_io_data_offset(uint32_t count) { return es_io_round_up(24u + 4u * (uint64_t)count); }

/* Fills `header` for `count` tensors of the given sizes; returns the file size. */
uint64_t es_io_make_header(es_io_header *header, uint32_t kind, uint32_t count,
                           const uint32_t *bytes);

/* Checks that `file` (of `file_size` bytes, or UINT64_MAX when unknown, as in guest memory)
 * holds `count` tensors of the sizes `bytes` expects, of the given kind, and sets
 * tensors[i] to each one's start. Returns NULL, or a message naming the mismatch. The
 * message lives in `message_buf` (at least 160 bytes). */
const char *es_io_parse(const void *file, uint64_t file_size, uint32_t kind, uint32_t count,
                        const uint32_t *bytes, const void **tensors, char *message_buf,
                        uint32_t message_buf_size);

#ifdef __cplusplus
}
#endif

#endif
