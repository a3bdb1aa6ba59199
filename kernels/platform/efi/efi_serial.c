/* The serving loop's port on the efi platform: the firmware's serial port through
 * EFI_SERIAL_IO_PROTOCOL, byte for byte (ConOut's terminal would reinterpret bytes). The
 * firmware's console shares the port; while serving, interrupts stay masked, so its terminal
 * driver, which polls the port from a timer, takes none of the input. */
#include <stdint.h>

#include "../common/virtual_counter.h"
#include "efi_platform.h"

static const efi_guid serial_io_guid = EFI_SERIAL_IO_GUID;

static uint64_t now_ms(void) {
  uint64_t frequency;
  __asm__ volatile("mrs %0, cntfrq_el0" : "=r"(frequency));
  return frequency ? es_virtual_counter() / (frequency / 1000u) : 0;
}

static int serial_read_byte(void *ctx, uint32_t timeout_ms) {
  efi_serial_io *serial = ctx;
  const uint64_t start = now_ms();
  for (;;) {
    unsigned char byte;
    uint64_t size = 1;
    const efi_status status = serial->read(serial, &size, &byte);
    if (!EFI_IS_ERROR(status) && size == 1) return byte;
    if (status != EFI_TIMEOUT && EFI_IS_ERROR(status)) return -1; /* the port failed: like a closed pipe */
    if (timeout_ms && now_ms() - start >= timeout_ms) return -1;
  }
}

static void serial_write(void *ctx, const void *bytes, uint32_t n) {
  efi_serial_io *serial = ctx;
  const unsigned char *p = bytes;
  while (n) {
    uint64_t size = n;
    if (EFI_IS_ERROR(serial->write(serial, &size, p)) && size == 0) return;
    p += size;
    n -= (uint32_t)size;
  }
}

int es_efi_serial_port(es_frame_port *port) {
  efi_serial_io *serial = 0;
  if (EFI_IS_ERROR(es_efi_system_table->boot_services->locate_protocol(&serial_io_guid, 0, (void **)&serial)) || !serial)
    return -1;
  port->read_byte = serial_read_byte;
  port->write = serial_write;
  port->ctx = serial;
  return 0;
}
