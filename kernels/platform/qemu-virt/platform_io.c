/* qemu-virt's console and exit (common/console.h) go through semihosting: QEMU prints the
 * console on its stdout and takes the exit code as its own. */
#include "../common/console.h"
#include "semihost.h"

void es_console_write(const char *text) { es_semihost_write0(text); }

void es_platform_exit(uint32_t code) { es_semihost_exit(code); }

__attribute__((noreturn)) void es_wrong_exception_level(void) {
  es_semihost_write0("edgespec: error: started outside EL1; boot with plain -M virt "
                     "(no virtualization=on or secure=on)\nedgespec: status=failed exit=3\n");
  es_semihost_exit(3);
}
