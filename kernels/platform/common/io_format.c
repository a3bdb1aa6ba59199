/* Reading and writing the input/output file header (edgespec/io_format.h). Shared by the
 * platforms; freestanding (no libc calls) so the fault-free path of qemu-virt stays small. */
#include "edgespec/io_format.h"

typedef struct {
  char *buf;
  uint32_t size, len;
} message;

static void put_str(message *m, const char *s) {
  while (*s && m->len + 1 < m->size) m->buf[m->len++] = *s++;
  m->buf[m->len] = '\0';
}

static void put_u64(message *m, uint64_t v) {
  char digits[21];
  int n = 0;
  do {
    digits[n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  while (n && m->len + 1 < m->size) m->buf[m->len++] = digits[--n];
  m->buf[m->len] = '\0';
}

uint64_t es_io_make_header(es_io_header *header, uint32_t kind, uint32_t count,
                           const uint32_t *bytes) {
  const char magic[8] = ES_IO_MAGIC;
  for (int i = 0; i < 8; i++) header->magic[i] = magic[i];
  header->version = ES_IO_VERSION;
  header->kind = kind;
  header->count = count;
  header->reserved = 0;
  uint64_t size = es_io_data_offset(count);
  for (uint32_t i = 0; i < ES_MAX_TENSORS; i++) {
    header->bytes[i] = i < count ? bytes[i] : 0;
    if (i < count) size += es_io_round_up(bytes[i]);
  }
  return size;
}

static const char *kind_name(uint32_t kind) {
  return kind == ES_IO_KIND_INPUTS ? "inputs" : kind == ES_IO_KIND_OUTPUTS ? "outputs" : "unknown";
}

const char *es_io_parse(const void *file, uint64_t file_size, uint32_t kind, uint32_t count,
                        const uint32_t *bytes, const void **tensors, char *message_buf,
                        uint32_t message_buf_size) {
  message m = {message_buf, message_buf_size, 0};
  const unsigned char *p = (const unsigned char *)file;
  const es_io_header *h = (const es_io_header *)file;
  const char magic[8] = ES_IO_MAGIC;

  if (file_size < 24) {
    put_str(&m, "the file is ");
    put_u64(&m, file_size);
    put_str(&m, " bytes, shorter than the 24-byte edgespec header");
    return message_buf;
  }
  for (int i = 0; i < 8; i++) {
    if (p[i] != (unsigned char)magic[i]) {
      put_str(&m, "no edgespec header (magic \"EDGESPEC\" missing): write the ");
      put_str(&m, kind_name(kind));
      put_str(&m, " in the format of kernels/include/edgespec/io_format.h");
      return message_buf;
    }
  }
  if (h->version != ES_IO_VERSION) {
    put_str(&m, "header version ");
    put_u64(&m, h->version);
    put_str(&m, ", this platform reads version 1");
    return message_buf;
  }
  if (h->kind != kind) {
    put_str(&m, "the file holds ");
    put_str(&m, kind_name(h->kind));
    put_str(&m, ", expected ");
    put_str(&m, kind_name(kind));
    return message_buf;
  }
  if (h->count != count) {
    put_str(&m, "the file holds ");
    put_u64(&m, h->count);
    put_str(&m, " tensors, the model has ");
    put_u64(&m, count);
    return message_buf;
  }
  if (file_size != UINT64_MAX && file_size < 24u + 4u * (uint64_t)count) {
    put_str(&m, "the file is truncated inside its header");
    return message_buf;
  }
  uint64_t offset = es_io_data_offset(count);
  for (uint32_t i = 0; i < count; i++) {
    if (h->bytes[i] != bytes[i]) {
      put_str(&m, "tensor ");
      put_u64(&m, i);
      put_str(&m, " is ");
      put_u64(&m, h->bytes[i]);
      put_str(&m, " bytes, the model expects ");
      put_u64(&m, bytes[i]);
      put_str(&m, " bytes (");
      put_u64(&m, bytes[i] / 4);
      put_str(&m, " float32 values)");
      return message_buf;
    }
    tensors[i] = p + offset;
    offset += es_io_round_up(bytes[i]);
  }
  if (file_size != UINT64_MAX && file_size != offset) {
    put_str(&m, "the file is ");
    put_u64(&m, file_size);
    put_str(&m, " bytes, its header says ");
    put_u64(&m, offset);
    return message_buf;
  }
  return (const char *)0;
}
