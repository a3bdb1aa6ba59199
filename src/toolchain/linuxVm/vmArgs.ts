import { LinuxVmManifest } from '../../common/types';

/** On the kernel command line, this reaches /init's environment: run once on the file, do not serve. */
export const ONE_SHOT = 'EDGESPEC_INPUT=/input.bin';

/** The QEMU arguments of a linux-vm boot; the serial console goes to `consoleFile` (a file) or stdio. */
export function linuxVmArgs(vm: LinuxVmManifest, files: { kernel: string; initrd: string; console: string | 'stdio' }, extraAppend = ''): string[] {
  return [
    '-M', vm.qemu.machine,
    '-cpu', vm.qemu.cpu,
    '-m', vm.qemu.memory,
    '-nodefaults',
    '-display', 'none',
    '-monitor', 'none',
    '-serial', files.console === 'stdio' ? 'stdio' : `file:${files.console}`,
    '-no-reboot',
    // virtual time follows the instructions, as on qemu-virt: /init's invoke_ns counts them
    '-icount', 'shift=0',
    '-kernel', files.kernel,
    '-initrd', files.initrd,
    '-append', `${vm.append}${extraAppend ? ` ${extraAppend}` : ''}`
  ];
}
