/* The serving loop every platform can run (kernels/platform/common/serve.c): boot once,
 * announce READY, then answer each INPUT frame with an OUTPUT (or ERROR) frame until STOP.
 * The protocol is edgespec/frame.h. */
#ifndef EDGESPEC_SERVE_H
#define EDGESPEC_SERVE_H

#include <stdint.h>

#include "edgespec/frame.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
  const es_frame_port *port;
  /* Where an INPUT frame's payload lands; 64-byte aligned. Its size is the READY frame's
   * max_input_bytes: a longer frame is answered ES_FRAME_ERROR_LENGTH. */
  unsigned char *input_buffer;
  uint32_t input_capacity;
  /* Storage of each model output, laid out as the platform's one-shot runner does. */
  float *const *outputs;
  /* Counters for the OUTPUT frame; NULL when the platform has none (the field is then 0). */
  uint64_t (*instructions_now)(void);
  uint64_t (*ns_now)(void);
} es_serve_config;

/* Returns 0 after a STOP frame, or -1 when the port closed (read_byte gave -1 while
 * waiting forever: the host end of a pipe went away). It never returns on a bad frame (it
 * answers ERROR). The platform then prints the console lines of a finished run and ends. */
int es_serve(const es_serve_config *config);

#ifdef __cplusplus
}
#endif

#endif
