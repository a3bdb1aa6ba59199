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

#ifdef __cplusplus
}
#endif

#endif
