/* The few UEFI types the efi platform uses, written from the UEFI 2.10 specification's
 * layouts (AArch64: UINTN is 64 bits, the calling convention is AAPCS64). Only the members
 * the platform calls are typed; the others are placeholders that keep the offsets. */
#ifndef EDGESPEC_EFI_H
#define EDGESPEC_EFI_H

#include <stdint.h>

typedef uint64_t efi_status;
typedef void *efi_handle;
typedef uint16_t efi_char16;

#define EFI_SUCCESS 0u
#define EFI_ERROR_BIT (1ull << 63)
#define EFI_IS_ERROR(s) (((s) & EFI_ERROR_BIT) != 0)
#define EFI_BUFFER_TOO_SMALL (EFI_ERROR_BIT | 5u)
#define EFI_NOT_FOUND (EFI_ERROR_BIT | 14u)

typedef struct {
  uint32_t data1;
  uint16_t data2, data3;
  uint8_t data4[8];
} efi_guid;

typedef struct {
  uint64_t signature;
  uint32_t revision, header_size, crc32, reserved;
} efi_table_header;

typedef struct efi_text_output efi_text_output;
struct efi_text_output {
  efi_status (*reset)(efi_text_output *self, uint8_t extended);
  efi_status (*output_string)(efi_text_output *self, const efi_char16 *text);
  void *test_string, *query_mode, *set_mode, *set_attribute, *clear_screen,
      *set_cursor_position, *enable_cursor, *mode;
};

enum { EFI_RESET_COLD = 0, EFI_RESET_WARM = 1, EFI_RESET_SHUTDOWN = 2 };

typedef struct {
  efi_table_header header;
  void *get_time, *set_time, *get_wakeup_time, *set_wakeup_time, *set_virtual_address_map,
      *convert_pointer, *get_variable, *get_next_variable_name, *set_variable,
      *get_next_high_monotonic_count;
  void (*reset_system)(uint32_t type, efi_status status, uint64_t data_size, void *data);
} efi_runtime_services;

enum { EFI_ALLOCATE_ANY_PAGES = 0 };
enum { EFI_LOADER_DATA = 2 };

typedef struct {
  efi_table_header header;
  void *raise_tpl, *restore_tpl;
  efi_status (*allocate_pages)(uint32_t type, uint32_t memory_type, uint64_t pages, uint64_t *address);
  efi_status (*free_pages)(uint64_t address, uint64_t pages);
  void *get_memory_map, *allocate_pool, *free_pool;
  void *create_event, *set_timer, *wait_for_event, *signal_event, *close_event, *check_event;
  void *install_protocol_interface, *reinstall_protocol_interface, *uninstall_protocol_interface;
  efi_status (*handle_protocol)(efi_handle handle, const efi_guid *protocol, void **interface);
  void *reserved, *register_protocol_notify, *locate_handle, *locate_device_path,
      *install_configuration_table;
  void *load_image, *start_image, *exit, *unload_image, *exit_boot_services;
  void *get_next_monotonic_count, *stall;
  efi_status (*set_watchdog_timer)(uint64_t timeout_s, uint64_t code, uint64_t data_size,
                                   const efi_char16 *data);
  void *connect_controller, *disconnect_controller, *open_protocol, *close_protocol,
      *open_protocol_information, *protocols_per_handle, *locate_handle_buffer;
  efi_status (*locate_protocol)(const efi_guid *protocol, void *registration, void **interface);
} efi_boot_services;

typedef struct {
  efi_table_header header;
  const efi_char16 *firmware_vendor;
  uint32_t firmware_revision;
  efi_handle console_in_handle;
  void *con_in;
  efi_handle console_out_handle;
  efi_text_output *con_out;
  efi_handle standard_error_handle;
  efi_text_output *std_err;
  efi_runtime_services *runtime_services;
  efi_boot_services *boot_services;
  uint64_t number_of_table_entries;
  void *configuration_table;
} efi_system_table;

/* EFI_LOADED_IMAGE_PROTOCOL */
#define EFI_LOADED_IMAGE_GUID \
  { 0x5b1b31a1, 0x9562, 0x11d2, { 0x8e, 0x3f, 0x00, 0xa0, 0xc9, 0x69, 0x72, 0x3b } }
typedef struct {
  uint32_t revision;
  efi_handle parent_handle;
  efi_system_table *system_table;
  efi_handle device_handle;
  void *file_path;
  void *reserved;
  uint32_t load_options_size;
  void *load_options;
  void *image_base;
  uint64_t image_size;
  uint32_t image_code_type, image_data_type;
  void *unload;
} efi_loaded_image;

/* EFI_SERIAL_IO_PROTOCOL */
#define EFI_SERIAL_IO_GUID \
  { 0xbb25cf6f, 0xf1d4, 0x11d2, { 0x9a, 0x0c, 0x00, 0x90, 0x27, 0x3f, 0xc1, 0xfd } }
#define EFI_TIMEOUT (EFI_ERROR_BIT | 18u)
typedef struct efi_serial_io efi_serial_io;
struct efi_serial_io {
  uint32_t revision;
  void *reset, *set_attributes, *set_control, *get_control;
  efi_status (*write)(efi_serial_io *self, uint64_t *size, const void *buffer);
  /* waits up to the port's timeout (1 s by default) for each byte */
  efi_status (*read)(efi_serial_io *self, uint64_t *size, void *buffer);
  void *mode;
};

/* EFI_FILE_PROTOCOL */
#define EFI_FILE_MODE_READ 0x1ull
#define EFI_FILE_MODE_WRITE 0x2ull
#define EFI_FILE_MODE_CREATE 0x8000000000000000ull

typedef struct efi_file efi_file;
struct efi_file {
  uint64_t revision;
  efi_status (*open)(efi_file *self, efi_file **opened, const efi_char16 *name, uint64_t mode,
                     uint64_t attributes);
  efi_status (*close)(efi_file *self);
  efi_status (*delete_file)(efi_file *self); /* closes the handle too */
  efi_status (*read)(efi_file *self, uint64_t *size, void *buffer);
  efi_status (*write)(efi_file *self, uint64_t *size, const void *buffer);
  void *get_position, *set_position;
  efi_status (*get_info)(efi_file *self, const efi_guid *type, uint64_t *size, void *buffer);
  efi_status (*set_info)(efi_file *self, const efi_guid *type, uint64_t size, const void *buffer);
  efi_status (*flush)(efi_file *self);
};

/* EFI_SIMPLE_FILE_SYSTEM_PROTOCOL */
#define EFI_SIMPLE_FILE_SYSTEM_GUID \
  { 0x964e5b22, 0x6459, 0x11d2, { 0x8e, 0x39, 0x00, 0xa0, 0xc9, 0x69, 0x72, 0x3b } }
typedef struct efi_simple_file_system efi_simple_file_system;
struct efi_simple_file_system {
  uint64_t revision;
  efi_status (*open_volume)(efi_simple_file_system *self, efi_file **root);
};

/* EFI_FILE_INFO: a fixed part, then the NUL-terminated UTF-16 file name. */
#define EFI_FILE_INFO_GUID \
  { 0x09576e92, 0x6d3f, 0x11d2, { 0x8e, 0x39, 0x00, 0xa0, 0xc9, 0x69, 0x72, 0x3b } }
typedef struct {
  uint16_t year;
  uint8_t month, day, hour, minute, second, pad1;
  uint32_t nanosecond;
  int16_t time_zone;
  uint8_t daylight, pad2;
} efi_time;

typedef struct {
  uint64_t size; /* of the whole structure, name included */
  uint64_t file_size;
  uint64_t physical_size;
  efi_time create_time, last_access_time, modification_time;
  uint64_t attribute;
  efi_char16 file_name[];
} efi_file_info;

_Static_assert(sizeof(efi_table_header) == 24, "EFI_TABLE_HEADER is 24 bytes");
_Static_assert(sizeof(efi_time) == 16, "EFI_TIME is 16 bytes");
_Static_assert(sizeof(efi_file_info) == 80, "EFI_FILE_INFO's fixed part is 80 bytes");
_Static_assert(__builtin_offsetof(efi_system_table, boot_services) == 96, "EFI_SYSTEM_TABLE layout");
_Static_assert(__builtin_offsetof(efi_boot_services, handle_protocol) == 24 + 16 * 8, "EFI_BOOT_SERVICES layout");
_Static_assert(__builtin_offsetof(efi_boot_services, set_watchdog_timer) == 24 + 29 * 8, "EFI_BOOT_SERVICES layout");
_Static_assert(__builtin_offsetof(efi_boot_services, locate_protocol) == 24 + 37 * 8, "EFI_BOOT_SERVICES layout");
_Static_assert(__builtin_offsetof(efi_serial_io, read) == 48, "EFI_SERIAL_IO_PROTOCOL layout");
_Static_assert(__builtin_offsetof(efi_runtime_services, reset_system) == 24 + 10 * 8, "EFI_RUNTIME_SERVICES layout");
_Static_assert(__builtin_offsetof(efi_loaded_image, device_handle) == 24, "EFI_LOADED_IMAGE_PROTOCOL layout");
_Static_assert(__builtin_offsetof(efi_file, flush) == 8 + 9 * 8, "EFI_FILE_PROTOCOL layout");

#endif
