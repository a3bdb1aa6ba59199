/* The serving loop (edgespec/serve.h): READY, then each INPUT frame answered with an
 * OUTPUT or ERROR frame, until STOP. Freestanding, like frame.c. */
#include "edgespec/serve.h"

#include "edgespec/io_format.h"
#include "edgespec/model.h"
#include "input_fault.h"

typedef struct {
  char text[240];
  uint32_t len;
} message;

static void put_str(message *m, const char *s) {
  while (*s && m->len + 1 < sizeof m->text) m->text[m->len++] = *s++;
  m->text[m->len] = '\0';
}

static void put_u64(message *m, uint64_t v) {
  char digits[20];
  int n = 0;
  do {
    digits[n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  while (n && m->len + 1 < sizeof m->text) m->text[m->len++] = digits[--n];
  m->text[m->len] = '\0';
}


static void le32(unsigned char *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}

static void le64(unsigned char *p, uint64_t v) {
  for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}

static void send_ready(const es_serve_config *config) {
  unsigned char fields[8];
  uint32_t name_bytes = 0;
  while (es_model.name[name_bytes]) name_bytes++;
  le32(fields, config->input_capacity);
  le32(fields + 4, name_bytes);
  const es_frame_piece pieces[2] = {{fields, 8}, {es_model.name, name_bytes}};
  es_frame_write(config->port, ES_FRAME_READY, 0, pieces, 2);
}

/* The outputs file (io_format.h, kind 2) after the two counters, straight from the output
 * buffers: header, padding, then each output and its padding. */
static void send_output(const es_serve_config *config, uint32_t sequence, uint64_t instructions,
                        uint64_t ns) {
  static const unsigned char zeros[ES_IO_ALIGN];
  unsigned char counters[16];
  le64(counters, instructions);
  le64(counters + 8, ns);
  es_io_header header;
  const uint32_t count = (uint32_t)es_model.n_outputs;
  es_io_make_header(&header, ES_IO_KIND_OUTPUTS, count, es_model.output_bytes);
  const uint32_t header_bytes = 24u + 4u * count;
  es_frame_piece pieces[3 + 2 * ES_MAX_TENSORS];
  uint32_t n = 0;
  pieces[n++] = (es_frame_piece){counters, sizeof counters};
  pieces[n++] = (es_frame_piece){&header, header_bytes};
  pieces[n++] = (es_frame_piece){zeros, (uint32_t)es_io_data_offset(count) - header_bytes};
  for (uint32_t i = 0; i < count; i++) {
    const uint32_t bytes = es_model.output_bytes[i];
    pieces[n++] = (es_frame_piece){config->outputs[i], bytes};
    pieces[n++] = (es_frame_piece){zeros, (uint32_t)es_io_round_up(bytes) - bytes};
  }
  es_frame_write(config->port, ES_FRAME_OUTPUT, sequence, pieces, n);
}

static void answer_read_error(const es_serve_config *config, int error, const es_frame_header *h) {
  message m = {{0}, 0};
  if (error == ES_FRAME_ERROR_CRC) {
    put_str(&m, "frame ");
    put_u64(&m, h->sequence);
    put_str(&m, " (");
    put_u64(&m, h->length);
    put_str(&m, " bytes) failed its CRC-32 check: damaged on the line");
  } else if (error == ES_FRAME_ERROR_LENGTH) {
    put_str(&m, "frame ");
    put_u64(&m, h->sequence);
    put_str(&m, " announces ");
    put_u64(&m, h->length);
    put_str(&m, " payload bytes, more than this device's ");
    put_u64(&m, config->input_capacity);
    put_str(&m, " (READY's max_input_bytes)");
  } else {
    put_str(&m, "a frame's bytes stopped arriving for ");
    put_u64(&m, ES_FRAME_BYTE_TIMEOUT_MS);
    put_str(&m, " ms; it was dropped (type ");
    put_u64(&m, h->type);
    put_str(&m, ", ");
    put_u64(&m, h->length);
    put_str(&m, " bytes announced)");
  }
  es_frame_write_error(config->port, h->sequence, (es_frame_error)error, m.text);
}

static void answer_input(const es_serve_config *config, const es_frame_header *h) {
  const void *inputs[ES_MAX_TENSORS];
  message m = {{0}, 0};
  char problem_text[200];
  const char *problem = es_io_parse(config->input_buffer, h->length, ES_IO_KIND_INPUTS,
                                    (uint32_t)es_model.n_inputs, es_model.input_bytes, inputs,
                                    problem_text, sizeof problem_text);
  if (problem) {
    put_str(&m, "input frame ");
    put_u64(&m, h->sequence);
    put_str(&m, ": ");
    put_str(&m, problem);
    es_frame_write_error(config->port, h->sequence, ES_FRAME_ERROR_BAD_INPUT, m.text);
    return;
  }
  const uint64_t instructions_start = config->instructions_now ? config->instructions_now() : 0;
  const uint64_t ns_start = config->ns_now ? config->ns_now() : 0;
  const int rc = es_model_invoke((const float *const *)inputs, config->outputs);
  const uint64_t ns = config->ns_now ? config->ns_now() - ns_start : 0;
  const uint64_t instructions = config->instructions_now ? config->instructions_now() - instructions_start : 0;
  if (rc == ES_MODEL_BAD_INPUT && &es_model_input_fault != 0) {
    put_str(&m, "input frame ");
    put_u64(&m, h->sequence);
    put_str(&m, ": ");
    m.len = es_input_fault_text(&es_model_input_fault, m.text, sizeof m.text, m.len);
    es_frame_write_error(config->port, h->sequence, ES_FRAME_ERROR_BAD_INPUT, m.text);
    return;
  }
  if (rc != 0) {
    put_str(&m, "es_model_invoke failed with ");
    put_u64(&m, (uint64_t)(uint32_t)rc);
    put_str(&m, " on input frame ");
    put_u64(&m, h->sequence);
    es_frame_write_error(config->port, h->sequence, ES_FRAME_ERROR_MODEL, m.text);
    return;
  }
  send_output(config, h->sequence, instructions, ns);
}

int es_serve(const es_serve_config *config) {
  send_ready(config);
  for (;;) {
    es_frame_header h;
    const int error = es_frame_read(config->port, 0, config->input_buffer, config->input_capacity, &h);
    if (error > 0) {
      answer_read_error(config, error, &h);
      continue;
    }
    if (error < 0) return -1;
    if (h.type == ES_FRAME_STOP) return 0;
    if (h.type == ES_FRAME_INPUT) {
      answer_input(config, &h);
      continue;
    }
    message m = {{0}, 0};
    put_str(&m, "frame ");
    put_u64(&m, h.sequence);
    put_str(&m, " has type ");
    put_u64(&m, h.type);
    put_str(&m, "; a device takes INPUT (2) and STOP (5)");
    es_frame_write_error(config->port, h.sequence, ES_FRAME_ERROR_TYPE, m.text);
  }
}
