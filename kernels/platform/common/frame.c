/* The serial frame protocol (edgespec/frame.h): CRC-32, reading a frame with the magic
 * resync and per-byte timeouts, writing a frame from a scatter list. Freestanding (no libc
 * calls), so every platform can link it. */
#include "edgespec/frame.h"

/* zlib's CRC-32 (reflected polynomial 0xEDB88320), four bits at a time: a 64-byte table
 * instead of zlib's 1 KiB, twice the lookups. */
static const uint32_t crc_nibble[16] = {
    0x00000000u, 0x1db71064u, 0x3b6e20c8u, 0x26d930acu, 0x76dc4190u, 0x6b6b51f4u,
    0x4db26158u, 0x5005713cu, 0xedb88320u, 0xf00f9344u, 0xd6d6a3e8u, 0xcb61b38cu,
    0x9b64c2b0u, 0x86d3d2d4u, 0xa00ae278u, 0xbdbdf21cu,
};

uint32_t es_crc32(uint32_t crc, const void *bytes, size_t n) {
  const unsigned char *p = (const unsigned char *)bytes;
  crc = ~crc;
  for (size_t i = 0; i < n; i++) {
    crc ^= p[i];
    crc = (crc >> 4) ^ crc_nibble[crc & 15u];
    crc = (crc >> 4) ^ crc_nibble[crc & 15u];
  }
  return ~crc;
}

static uint32_t get_u32(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put_u32(unsigned char *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}

/* Waits for the four magic bytes; a byte that breaks the magic restarts the search (at
 * once if it is itself the first magic byte). */
static int find_magic(const es_frame_port *port, uint32_t first_timeout_ms) {
  static const unsigned char magic[4] = {ES_FRAME_MAGIC0, ES_FRAME_MAGIC1, ES_FRAME_MAGIC2, ES_FRAME_MAGIC3};
  unsigned matched = 0;
  while (matched < 4) {
    const int c = port->read_byte(port->ctx, matched ? ES_FRAME_BYTE_TIMEOUT_MS : first_timeout_ms);
    if (c < 0) return matched ? ES_FRAME_ERROR_TIMEOUT : -1;
    if ((unsigned char)c == magic[matched]) matched++;
    else matched = (unsigned char)c == magic[0] ? 1 : 0;
  }
  return 0;
}

/* Reads n bytes into `to` (or drops them when `to` is NULL). */
static int read_bytes(const es_frame_port *port, unsigned char *to, uint32_t n) {
  for (uint32_t i = 0; i < n; i++) {
    const int c = port->read_byte(port->ctx, ES_FRAME_BYTE_TIMEOUT_MS);
    if (c < 0) return ES_FRAME_ERROR_TIMEOUT;
    if (to) to[i] = (unsigned char)c;
  }
  return 0;
}

int es_frame_read(const es_frame_port *port, uint32_t first_timeout_ms, unsigned char *payload,
                  uint32_t capacity, es_frame_header *header) {
  header->type = 0;
  header->flags = 0;
  header->sequence = 0;
  header->length = 0;
  const int found = find_magic(port, first_timeout_ms);
  if (found) return found;

  unsigned char head[ES_FRAME_HEADER_BYTES] = {ES_FRAME_MAGIC0, ES_FRAME_MAGIC1, ES_FRAME_MAGIC2, ES_FRAME_MAGIC3};
  if (read_bytes(port, head + 4, ES_FRAME_HEADER_BYTES - 4)) return ES_FRAME_ERROR_TIMEOUT;
  header->type = (uint16_t)(head[4] | head[5] << 8);
  header->flags = (uint16_t)(head[6] | head[7] << 8);
  header->sequence = get_u32(head + 8);
  header->length = get_u32(head + 12);
  if (header->length > capacity) {
    /* Drop the payload and CRC the header announces, so the next frame is found by its
     * magic and not inside this one's bytes; a length damaged upwards ends by timeout. */
    read_bytes(port, 0, header->length + ES_FRAME_CRC_BYTES < header->length ? 0xffffffffu
                                                                             : header->length + ES_FRAME_CRC_BYTES);
    return ES_FRAME_ERROR_LENGTH;
  }

  unsigned char tail[ES_FRAME_CRC_BYTES];
  if (read_bytes(port, payload, header->length) || read_bytes(port, tail, ES_FRAME_CRC_BYTES))
    return ES_FRAME_ERROR_TIMEOUT;
  const uint32_t crc = es_crc32(es_crc32(0, head, ES_FRAME_HEADER_BYTES), payload, header->length);
  return get_u32(tail) == crc ? 0 : ES_FRAME_ERROR_CRC;
}

void es_frame_write(const es_frame_port *port, uint16_t type, uint32_t sequence,
                    const es_frame_piece *pieces, uint32_t count) {
  uint32_t length = 0;
  for (uint32_t i = 0; i < count; i++) length += pieces[i].n;
  unsigned char head[ES_FRAME_HEADER_BYTES] = {ES_FRAME_MAGIC0, ES_FRAME_MAGIC1, ES_FRAME_MAGIC2, ES_FRAME_MAGIC3,
                                               (unsigned char)type, (unsigned char)(type >> 8), 0, 0};
  put_u32(head + 8, sequence);
  put_u32(head + 12, length);
  uint32_t crc = es_crc32(0, head, sizeof head);
  port->write(port->ctx, head, sizeof head);
  for (uint32_t i = 0; i < count; i++) {
    if (!pieces[i].n) continue;
    crc = es_crc32(crc, pieces[i].bytes, pieces[i].n);
    port->write(port->ctx, pieces[i].bytes, pieces[i].n);
  }
  unsigned char tail[ES_FRAME_CRC_BYTES];
  put_u32(tail, crc);
  port->write(port->ctx, tail, sizeof tail);
}

void es_frame_write_error(const es_frame_port *port, uint32_t sequence, es_frame_error code,
                          const char *message) {
  unsigned char code_bytes[4];
  put_u32(code_bytes, (uint32_t)code);
  uint32_t n = 0;
  while (message[n]) n++;
  const es_frame_piece pieces[2] = {{code_bytes, 4}, {message, n}};
  es_frame_write(port, ES_FRAME_ERROR, sequence, pieces, 2);
}
