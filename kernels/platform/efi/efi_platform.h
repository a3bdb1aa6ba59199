/* What the efi platform's files share. */
#ifndef EDGESPEC_EFI_PLATFORM_H
#define EDGESPEC_EFI_PLATFORM_H

#include <stdint.h>

#include "edgespec/frame.h"
#include "efi.h"

extern efi_system_table *es_efi_system_table;
extern efi_handle es_efi_image_handle;

/* The boot volume's root directory (the volume BOOTAA64.EFI was loaded from), or 0 with a
 * message naming the step that failed. */
efi_file *es_efi_open_boot_volume(const char **problem);

/* Reads the whole file `name` of `dir` into pages from the firmware (4 KiB aligned).
 * Returns 0 and sets *data and *bytes, or an EFI status (EFI_NOT_FOUND when there is none). */
efi_status es_efi_read_file(efi_file *dir, const efi_char16 *name, void **data, uint64_t *bytes);

/* Deletes `name` from `dir` if it is there; returns 0 when it is gone. */
efi_status es_efi_delete_file(efi_file *dir, const efi_char16 *name);

/* Renames the open file to `new_name` (same directory) through SetInfo. */
efi_status es_efi_rename(efi_file *file, const efi_char16 *new_name);

/* The firmware's serial port as the serving loop's frame port; -1 when there is none. */
int es_efi_serial_port(es_frame_port *port);

#endif
