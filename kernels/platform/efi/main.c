/* efi model runner: a UEFI application (BOOTAA64.EFI). It reads input.bin from the root of
 * the volume it was loaded from, runs the model once, writes output.bin there (first as
 * output.bin.partial, then renamed), prints the "edgespec: ..." lines on ConOut and powers
 * the machine off through ResetSystem (QEMU exits), also after an error or a fault. Without
 * an input.bin it serves frames on the firmware's serial port instead (edgespec/serve.h).
 *
 * Build with -DES_OUTPUT_BYTES=N, N = sum over outputs of round_up(bytes, 64). */
#include <stdint.h>
#include <string.h>

#include "../common/console.h"
#include "../common/input_fault.h"
#include "../common/model_run.h"
#include "../common/virtual_counter.h"
#include "edgespec/io_format.h"
#include "edgespec/model.h"
#include "edgespec/platform.h"
#include "edgespec/serve.h"
#include "efi_platform.h"

#ifndef ES_OUTPUT_BYTES
#error "define ES_OUTPUT_BYTES: the sum of the model's output sizes, each rounded up to 64 bytes"
#endif

#define ES_INPUT_NAME u"input.bin"
#define ES_OUTPUT_NAME u"output.bin"
#define ES_OUTPUT_PARTIAL_NAME u"output.bin.partial"

efi_system_table *es_efi_system_table;
efi_handle es_efi_image_handle;

extern char __tls_base[], __es_tbss_start[], __es_tbss_end[];
extern void (*__init_array_start[])(void), (*__init_array_end[])(void);
extern const char es_vectors[];

static float output_storage[(ES_OUTPUT_BYTES + 3) / 4] __attribute__((aligned(64)));

__attribute__((noreturn)) static void fail_status(es_exit_code code) {
  es_line line;
  es_line_start(&line);
  es_line_str(&line, "status=failed exit=");
  es_line_dec(&line, code);
  es_line_end(&line);
  es_platform_exit(code);
}

__attribute__((noreturn)) static void fail(es_exit_code code, const char *what, efi_status status) {
  es_line line;
  es_line_start(&line);
  es_line_str(&line, "error: ");
  es_line_str(&line, what);
  if (status) {
    es_line_str(&line, " (EFI status ");
    es_line_hex(&line, status);
    es_line_str(&line, ")");
  }
  es_line_end(&line);
  fail_status(code);
}

static uint64_t current_el(void) {
  uint64_t el;
  __asm__ volatile("mrs %0, CurrentEL" : "=r"(el));
  return (el >> 2) & 3;
}

/* The model runs with interrupts masked and this image's vectors installed, so that a fault
 * is reported (common/fault.c) instead of landing in the firmware's handler, which hangs.
 * The firmware's vectors and interrupt mask come back before it is called again (the
 * serving loop calls the firmware's serial port meanwhile: polled, it needs no interrupt). */
typedef struct {
  uint64_t daif, vbar;
  int el2;
} firmware_state;

static void enter_own_vectors(firmware_state *saved) {
  __asm__ volatile("mrs %0, daif" : "=r"(saved->daif));
  __asm__ volatile("msr daifset, #3" ::: "memory");
  saved->el2 = current_el() == 2;
  if (saved->el2) {
    __asm__ volatile("mrs %0, vbar_el2" : "=r"(saved->vbar));
    __asm__ volatile("msr vbar_el2, %0\n\tisb" : : "r"(es_vectors) : "memory");
  } else {
    __asm__ volatile("mrs %0, vbar_el1" : "=r"(saved->vbar));
    __asm__ volatile("msr vbar_el1, %0\n\tisb" : : "r"(es_vectors) : "memory");
  }
#ifdef ES_TEST_CPU_FAULT
  /* test builds only (EDGESPEC_TEST_PLANT_FAULT=cpu-fault): a load from an unmapped address */
  extern int es_test_fault_read(uintptr_t address);
  es_test_fault_read((uintptr_t)0xfff0000000000ull);
#endif
}

static void leave_own_vectors(const firmware_state *saved) {
  if (saved->el2) __asm__ volatile("msr vbar_el2, %0\n\tisb" : : "r"(saved->vbar) : "memory");
  else __asm__ volatile("msr vbar_el1, %0\n\tisb" : : "r"(saved->vbar) : "memory");
  __asm__ volatile("msr daif, %0" : : "r"(saved->daif) : "memory");
}

static int invoke_with_fault_report(const float *const *inputs, float *const *outputs) {
  firmware_state saved;
  enter_own_vectors(&saved);
  const int rc = es_model_invoke(inputs, outputs);
  leave_own_vectors(&saved);
  return rc;
}

static uint64_t instructions_now(void) { return es_ticks_to_instructions(es_virtual_counter()); }

/* No input.bin on the boot volume: serve frames on the firmware's serial port
 * (edgespec/serve.h) until STOP, then end as a one-shot run does. */
__attribute__((noreturn)) static void serve(float *const *outputs) {
  es_frame_port port;
  if (es_efi_serial_port(&port) != 0)
    fail(ES_EXIT_BAD_INPUT, "no input.bin at the root of the boot volume, and no serial port to serve on (EFI_SERIAL_IO_PROTOCOL)", 0);
  uint64_t capacity = es_io_data_offset((uint32_t)es_model.n_inputs);
  for (int32_t i = 0; i < es_model.n_inputs; i++) capacity += es_io_round_up(es_model.input_bytes[i]);
  uint64_t buffer = 0;
  const efi_status status = es_efi_system_table->boot_services->allocate_pages(
      EFI_ALLOCATE_ANY_PAGES, EFI_LOADER_DATA, (capacity + 4095) / 4096, &buffer);
  if (EFI_IS_ERROR(status)) fail(ES_EXIT_BAD_INPUT, "cannot allocate the input buffer", status);
  es_line line;
  es_line_start(&line);
  es_line_str(&line, "serving on the firmware's serial port max_input_bytes=");
  es_line_dec(&line, capacity);
  es_line_end(&line);
  const es_serve_config config = {&port, (unsigned char *)(uintptr_t)buffer, (uint32_t)capacity, outputs,
                                  instructions_now, 0};
  firmware_state saved;
  enter_own_vectors(&saved);
  const int rc = es_serve(&config);
  leave_own_vectors(&saved);
  if (rc != 0) fail(ES_EXIT_MODEL_ERROR, "the serving loop ended without a STOP frame (the serial port failed)", 0);
  es_console_write("edgespec: status=ok\n");
  es_platform_exit(ES_EXIT_OK);
}

#ifdef ES_TEST_CPU_FAULT
__attribute__((noinline)) int es_test_fault_read(uintptr_t address) {
  return *(volatile int *)address;
}
#endif

static void write_all(efi_file *file, const void *data, uint64_t bytes, int *bad) {
  uint64_t n = bytes;
  if (EFI_IS_ERROR(file->write(file, &n, data)) || n != bytes) *bad = 1;
}

/* Writes output.bin.partial, flushes it and renames it to output.bin; a firmware whose FAT
 * driver cannot rename (SetInfo refused) gets output.bin written whole and flushed instead.
 * Returns the file's size. */
static uint64_t write_outputs(efi_file *root, float *const *outputs) {
  es_io_header header;
  const uint64_t file_size =
      es_io_make_header(&header, ES_IO_KIND_OUTPUTS, (uint32_t)es_model.n_outputs, es_model.output_bytes);
  static const unsigned char zeros[ES_IO_ALIGN];
  const uint64_t header_bytes = 24u + 4u * (uint64_t)es_model.n_outputs;
  for (int attempt = 0; attempt < 2; attempt++) {
    const efi_char16 *name = attempt == 0 ? ES_OUTPUT_PARTIAL_NAME : ES_OUTPUT_NAME;
    efi_file *file = 0;
    efi_status status = root->open(root, &file, name,
                                   EFI_FILE_MODE_READ | EFI_FILE_MODE_WRITE | EFI_FILE_MODE_CREATE, 0);
    if (EFI_IS_ERROR(status)) fail(ES_EXIT_OUTPUT, "cannot create output.bin.partial on the boot volume (read-only?)", status);
    int bad = 0;
    write_all(file, &header, header_bytes, &bad);
    write_all(file, zeros, es_io_data_offset((uint32_t)es_model.n_outputs) - header_bytes, &bad);
    for (int32_t i = 0; i < es_model.n_outputs; i++) {
      const uint64_t bytes = es_model.output_bytes[i];
      write_all(file, outputs[i], bytes, &bad);
      if (es_io_round_up(bytes) != bytes) write_all(file, zeros, es_io_round_up(bytes) - bytes, &bad);
    }
    if (!bad && EFI_IS_ERROR(file->flush(file))) bad = 1;
    if (bad) {
      file->delete_file(file);
      fail(ES_EXIT_OUTPUT, "writing the output file on the boot volume failed (volume full?)", 0);
    }
    if (attempt == 1) {
      file->close(file);
      return file_size;
    }
    status = es_efi_rename(file, ES_OUTPUT_NAME);
    if (!EFI_IS_ERROR(status)) {
      status = file->close(file);
      if (EFI_IS_ERROR(status)) fail(ES_EXIT_OUTPUT, "closing output.bin failed", status);
      return file_size;
    }
    file->delete_file(file);
  }
  return file_size;
}

static void start_runtime(void) {
  /* picolibc keeps errno in thread-local storage: point the thread pointer at the block */
  memset(__es_tbss_start, 0, (size_t)(__es_tbss_end - __es_tbss_start));
  const uint64_t tp = (uint64_t)(uintptr_t)__tls_base - 16; /* the TCB; efi.ld checks the alignment */
  __asm__ volatile("msr tpidr_el0, %0" : : "r"(tp));
  for (void (**f)(void) = __init_array_start; f < __init_array_end; f++) (*f)();
}

efi_status es_efi_main(efi_handle image, efi_system_table *system_table) {
  es_efi_image_handle = image;
  es_efi_system_table = system_table;
  start_runtime();
  /* the boot manager arms a 5-minute watchdog; a large model under emulation takes longer */
  system_table->boot_services->set_watchdog_timer(0, 0, 0, 0);

  es_line line;
  es_console_write("\n");
  es_print_model_line();

  const char *counts = es_model_counts_problem();
  if (counts) fail(ES_EXIT_MODEL_ERROR, counts, 0);

  const char *problem = 0;
  efi_file *root = es_efi_open_boot_volume(&problem);
  if (!root) fail(ES_EXIT_BAD_INPUT, problem, 0);

  /* A run that fails must not leave an earlier run's output behind. */
  efi_status status = es_efi_delete_file(root, ES_OUTPUT_NAME);
  if (!EFI_IS_ERROR(status)) status = es_efi_delete_file(root, ES_OUTPUT_PARTIAL_NAME);
  if (EFI_IS_ERROR(status)) fail(ES_EXIT_OUTPUT, "cannot remove an earlier output.bin from the boot volume", status);

  float *outputs[ES_MAX_TENSORS];
  const char *layout = es_layout_outputs(output_storage, sizeof output_storage, outputs);
  if (layout) fail(ES_EXIT_MODEL_ERROR, layout, 0);

  void *input = 0;
  uint64_t input_bytes = 0;
  status = es_efi_read_file(root, ES_INPUT_NAME, &input, &input_bytes);
  if (status == EFI_NOT_FOUND) {
    root->close(root);
    serve(outputs);
  }
  if (EFI_IS_ERROR(status)) fail(ES_EXIT_BAD_INPUT, "cannot read input.bin from the boot volume", status);

  const void *inputs[ES_MAX_TENSORS];
  char message[200];
  problem = es_io_parse(input, input_bytes, ES_IO_KIND_INPUTS, (uint32_t)es_model.n_inputs,
                        es_model.input_bytes, inputs, message, sizeof message);
  if (problem) {
    es_line_start(&line);
    es_line_str(&line, "error: input.bin on the boot volume: ");
    es_line_str(&line, problem);
    es_line_end(&line);
    fail_status(ES_EXIT_BAD_INPUT);
  }

  const uint64_t start = es_virtual_counter();
  const int rc = invoke_with_fault_report((const float *const *)inputs, outputs);
  const uint64_t end = es_virtual_counter();
  if (rc == ES_MODEL_BAD_INPUT && &es_model_input_fault != 0) {
    char text[200];
    es_input_fault_text(&es_model_input_fault, text, sizeof text, 0);
    fail(ES_EXIT_BAD_INPUT, text, 0);
  }
  if (rc != 0) fail(ES_EXIT_MODEL_ERROR, "es_model_invoke failed", 0);

  es_print_count_line("invoke_instructions", es_ticks_to_instructions(end - start));

  const uint64_t written = write_outputs(root, outputs);
  root->close(root);
  es_print_output_file_line("output.bin", written);
  es_print_count_line("run_instructions", es_ticks_to_instructions(es_virtual_counter()));
  es_console_write("edgespec: status=ok\n");
  es_platform_exit(ES_EXIT_OK);
}

/* The image is linked at 0 (efi.ld): the address it runs at is the offset the fault report
 * takes off before looking a PC up in the symbol table. */
uint64_t es_image_load_offset(void) {
  extern const char _start[];
  return (uint64_t)(uintptr_t)_start - 0x1000;
}
