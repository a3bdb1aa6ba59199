/* The boot volume through the UEFI file protocol: EFI_LOADED_IMAGE_PROTOCOL gives the device
 * the application was loaded from, its EFI_SIMPLE_FILE_SYSTEM_PROTOCOL opens the volume. */
#include <stdint.h>
#include <string.h>

#include "efi_platform.h"

static const efi_guid loaded_image_guid = EFI_LOADED_IMAGE_GUID;
static const efi_guid file_system_guid = EFI_SIMPLE_FILE_SYSTEM_GUID;
static const efi_guid file_info_guid = EFI_FILE_INFO_GUID;

efi_file *es_efi_open_boot_volume(const char **problem) {
  efi_boot_services *bs = es_efi_system_table->boot_services;
  efi_loaded_image *image = 0;
  if (EFI_IS_ERROR(bs->handle_protocol(es_efi_image_handle, &loaded_image_guid, (void **)&image)) || !image) {
    *problem = "the firmware gave no EFI_LOADED_IMAGE_PROTOCOL for this application";
    return 0;
  }
  efi_simple_file_system *fs = 0;
  if (EFI_IS_ERROR(bs->handle_protocol(image->device_handle, &file_system_guid, (void **)&fs)) || !fs) {
    *problem = "the device this application was loaded from has no file system (boot it from a FAT volume)";
    return 0;
  }
  efi_file *root = 0;
  if (EFI_IS_ERROR(fs->open_volume(fs, &root)) || !root) {
    *problem = "cannot open the boot volume";
    return 0;
  }
  return root;
}

/* The file's EFI_FILE_INFO, in `buffer`. */
static efi_status file_info(efi_file *file, efi_file_info *buffer, uint64_t size) {
  return file->get_info(file, &file_info_guid, &size, buffer);
}

efi_status es_efi_read_file(efi_file *dir, const efi_char16 *name, void **data, uint64_t *bytes) {
  efi_file *file = 0;
  efi_status status = dir->open(dir, &file, name, EFI_FILE_MODE_READ, 0);
  if (EFI_IS_ERROR(status)) return status;
  uint64_t info_storage[64];
  efi_file_info *info = (efi_file_info *)info_storage;
  status = file_info(file, info, sizeof info_storage);
  if (EFI_IS_ERROR(status)) {
    file->close(file);
    return status;
  }
  const uint64_t size = info->file_size;
  uint64_t address = 0;
  status = es_efi_system_table->boot_services->allocate_pages(
      EFI_ALLOCATE_ANY_PAGES, EFI_LOADER_DATA, (size + 4095) / 4096 + 1, &address);
  if (EFI_IS_ERROR(status)) {
    file->close(file);
    return status;
  }
  uint64_t done = 0;
  while (done < size) { /* a read may return fewer bytes than asked */
    uint64_t chunk = size - done;
    status = file->read(file, &chunk, (char *)(uintptr_t)address + done);
    if (EFI_IS_ERROR(status)) break;
    if (chunk == 0) {
      status = EFI_NOT_FOUND;
      break;
    }
    done += chunk;
  }
  file->close(file);
  if (EFI_IS_ERROR(status)) return status;
  *data = (void *)(uintptr_t)address;
  *bytes = size;
  return EFI_SUCCESS;
}

efi_status es_efi_delete_file(efi_file *dir, const efi_char16 *name) {
  efi_file *file = 0;
  efi_status status = dir->open(dir, &file, name, EFI_FILE_MODE_READ | EFI_FILE_MODE_WRITE, 0);
  if (status == EFI_NOT_FOUND) return EFI_SUCCESS;
  if (EFI_IS_ERROR(status)) return status;
  return file->delete_file(file); /* closes it, also when the delete fails */
}

efi_status es_efi_rename(efi_file *file, const efi_char16 *new_name) {
  uint64_t info_storage[64];
  efi_file_info *info = (efi_file_info *)info_storage;
  efi_status status = file_info(file, info, sizeof info_storage);
  if (EFI_IS_ERROR(status)) return status;
  uint64_t n = 0;
  while (new_name[n]) n++;
  if (sizeof(efi_file_info) + 2 * (n + 1) > sizeof info_storage) return EFI_BUFFER_TOO_SMALL;
  memcpy(info->file_name, new_name, 2 * (n + 1));
  info->size = sizeof(efi_file_info) + 2 * (n + 1);
  return file->set_info(file, &file_info_guid, info->size, info);
}
