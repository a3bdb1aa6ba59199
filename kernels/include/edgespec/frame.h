/* The serial frame protocol: how a serving image and `edgespec run` talk over one byte
 * stream (a UART, QEMU's chardev, a pipe, a real serial port). Console text lines
 * ("edgespec: ...\n", platform.h) and frames share the stream: a frame starts with a magic
 * whose first byte is not ASCII, so a reader tells them apart byte by byte. Little-endian.
 *
 *   offset  0        uint8[4]  magic  0xE5 'E' 'S' 'F'
 *   offset  4        uint16    type   (es_frame_type)
 *   offset  6        uint16    flags  0
 *   offset  8        uint32    sequence: the host numbers its frames; an answer carries the
 *                              sequence of the frame it answers (0 for ready)
 *   offset 12        uint32    length: payload bytes
 *   offset 16        payload
 *   offset 16+length uint32    CRC-32 (IEEE 802.3, the one zlib.crc32 computes) of bytes
 *                              0 .. 16+length-1, i.e. header and payload
 *
 * Payloads:
 *   READY  (device → host, once after boot and ready for inputs):
 *          uint32 max_input_bytes, uint32 name_bytes, the model's name (UTF-8, no NUL)
 *   INPUT  (host → device): an inputs file, exactly as io_format.h (kind 1)
 *   OUTPUT (device → host): uint64 invoke_instructions (0 when the platform cannot count),
 *          uint64 invoke_ns (0 when it has no clock), then an outputs file (io_format.h, kind 2)
 *   ERROR  (device → host): uint32 es_frame_error, then a message (UTF-8, no NUL)
 *   STOP   (host → device): empty; the device answers with the console lines of a finished
 *          run ("edgespec: status=ok") and ends (exits, powers off or parks)
 *
 * The device never dies on a bad frame: it answers ERROR and waits for the next magic.
 * A frame whose bytes stop arriving for ES_FRAME_BYTE_TIMEOUT_MS is dropped with
 * ES_FRAME_ERROR_TIMEOUT. */
#ifndef EDGESPEC_FRAME_H
#define EDGESPEC_FRAME_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ES_FRAME_MAGIC0 0xE5u
#define ES_FRAME_MAGIC1 'E'
#define ES_FRAME_MAGIC2 'S'
#define ES_FRAME_MAGIC3 'F'
#define ES_FRAME_HEADER_BYTES 16u
#define ES_FRAME_CRC_BYTES 4u
#define ES_FRAME_BYTE_TIMEOUT_MS 2000u

typedef enum {
  ES_FRAME_READY = 1,
  ES_FRAME_INPUT = 2,
  ES_FRAME_OUTPUT = 3,
  ES_FRAME_ERROR = 4,
  ES_FRAME_STOP = 5,
} es_frame_type;

typedef enum {
  ES_FRAME_ERROR_CRC = 1,        /* the CRC did not match: the frame was damaged on the line */
  ES_FRAME_ERROR_LENGTH = 2,     /* length above the device's max_input_bytes */
  ES_FRAME_ERROR_TIMEOUT = 3,    /* the frame's bytes stopped arriving */
  ES_FRAME_ERROR_BAD_INPUT = 4,  /* the payload is not an inputs file that matches the model */
  ES_FRAME_ERROR_MODEL = 5,      /* es_model_invoke failed */
  ES_FRAME_ERROR_TYPE = 6,       /* a frame type the device does not take */
} es_frame_error;

/* The byte stream a platform serves on. read_byte returns 0..255, or -1 when no byte came
 * within timeout_ms (timeout_ms == 0: wait forever). write sends all n bytes. */
typedef struct {
  int (*read_byte)(void *ctx, uint32_t timeout_ms);
  void (*write)(void *ctx, const void *bytes, uint32_t n);
  void *ctx;
} es_frame_port;

/* The frame's header as read (kernels/platform/common/frame.c). */
typedef struct {
  uint16_t type;
  uint16_t flags;
  uint32_t sequence;
  uint32_t length;
} es_frame_header;

/* One piece of a frame's payload: es_frame_write sends the pieces in order without copying. */
typedef struct {
  const void *bytes;
  uint32_t n;
} es_frame_piece;

/* zlib's crc32(crc, bytes, n): start with crc = 0, feed pieces in order. */
uint32_t es_crc32(uint32_t crc, const void *bytes, size_t n);

/* Reads the next frame: skips bytes until the magic (waiting up to first_timeout_ms for each
 * of them, 0 = forever), then the header, the payload into `payload` (capacity bytes) and
 * the CRC, each byte within ES_FRAME_BYTE_TIMEOUT_MS. Returns 0 with `header` filled, -1
 * when no magic came within first_timeout_ms, or an es_frame_error (header holds what was
 * read of it, sequence 0 if unknown). A frame longer than capacity is drained (its bytes
 * read and dropped, until they stop) before ES_FRAME_ERROR_LENGTH is returned. */
int es_frame_read(const es_frame_port *port, uint32_t first_timeout_ms, unsigned char *payload,
                  uint32_t capacity, es_frame_header *header);

/* Sends one frame of the given type and sequence whose payload is the pieces, in order. */
void es_frame_write(const es_frame_port *port, uint16_t type, uint32_t sequence,
                    const es_frame_piece *pieces, uint32_t count);

/* Sends an ERROR frame: the code, then the message (NUL-terminated, sent without the NUL). */
void es_frame_write_error(const es_frame_port *port, uint32_t sequence, es_frame_error code,
                          const char *message);

#ifdef __cplusplus
}
#endif

#endif
