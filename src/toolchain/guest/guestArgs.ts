/**
 * The command line that starts an image, for each target: one list of arguments, which
 * `edgespec run` starts (src/toolchain/run) and the build's boot.sh writes out (bootScript.ts).
 * The files are given by the caller: paths for a run, shell words for boot.sh.
 */
import type { TargetName } from '../../common/targets';

export interface GuestSpec {
  target: TargetName;
  /** qemu-virt: the platform's QEMU machine, CPU, memory and the address the image reads its input from. */
  qemu?: { machine: string; cpu: string; memory: string; inputAddress: string };
  /** host and linux: the executable's arguments, in order. */
  hostArgv?: ('INPUT_FILE' | 'OUTPUT_FILE')[];
  /** linux: the CPU the user-mode emulator emulates. */
  userMode?: { cpu: string };
  /** efi: the QEMU machine, the EDK2 firmware files and the build's disk image. */
  efi?: EfiGuest;
}

export interface EfiGuest {
  machine: string;
  cpu: string;
  memory: string;
  firmwareCode: string;
  firmwareVars: string;
  diskImage: string;
}

/** The image, the input file it reads and the output file it writes (qemu-virt: semihosting writes output.bin in the working directory). */
export interface GuestFiles {
  image: string;
  input: string;
  output: string;
}

/**
 * The qemu-virt image boots in QEMU's `virt` machine: the loader puts the input file at the
 * address the image reads it from, semihosting writes output.bin into the working
 * directory and ends QEMU with the run's status; -icount shift=0 makes the guest's
 * virtual counter count instructions.
 */
export function qemuVirtArgs(qemu: NonNullable<GuestSpec['qemu']>, files: GuestFiles): string[] {
  return [
    '-M', qemu.machine,
    '-cpu', qemu.cpu,
    '-m', qemu.memory,
    // no devices, display, monitor or serial: the console is semihosting's, on stdout
    '-nodefaults',
    '-display', 'none',
    '-monitor', 'none',
    '-serial', 'none',
    '-chardev', 'stdio,id=console',
    '-semihosting-config', 'enable=on,target=native,chardev=console',
    '-no-reboot',
    '-icount', 'shift=0',
    '-kernel', files.image,
    '-device', `loader,file=${files.input},addr=${qemu.inputAddress},force-raw=on`
  ];
}

/** The host (and linux) executable reads the input file and writes the output file named on its command line. */
export function executableArgs(spec: GuestSpec, files: GuestFiles): string[] {
  return (spec.hostArgv ?? ['INPUT_FILE', 'OUTPUT_FILE']).map(a => (a === 'INPUT_FILE' ? files.input : files.output));
}

/** The CPU the linux executable was compiled for, which the user-mode emulator emulates. */
export function linuxCpu(spec: GuestSpec): string {
  return spec.userMode?.cpu ?? 'cortex-a72';
}

/**
 * The linux target is a static AArch64 executable; off an ARM64 board it runs under QEMU's
 * user-mode emulator with the CPU it was compiled for.
 */
export function linuxEmulatorArgs(spec: GuestSpec, files: GuestFiles): string[] {
  return ['-cpu', linuxCpu(spec), files.image, ...executableArgs(spec, files)];
}

/**
 * The rpi3 image (kernel8.img) boots in QEMU's `raspi3b` machine as the firmware starts it
 * (at 0x80000, all four cores, EL2); its PL011 UART is QEMU's first serial port, here the
 * chardev on QEMU's stdin and stdout, over which the host talks frames (edgespec/frame.h).
 * With -icount shift=0 the guest's clock advances one nanosecond per instruction, so the
 * invoke time the device reports counts instructions.
 */
export function raspi3Args(machine: string, kernel8: string, options: { countInstructions: boolean }): string[] {
  return [
    '-M', machine,
    '-display', 'none',
    '-monitor', 'none',
    '-serial', 'stdio',
    '-no-reboot',
    ...(options.countInstructions ? ['-icount', 'shift=0,sleep=off'] : []),
    '-kernel', kernel8
  ];
}

/**
 * The efi application under EDK2 (Debian's AAVMF) in QEMU's `virt` machine: the firmware's
 * code read-only, a private copy of its variables writable, the disk on virtio. With fresh
 * variables EDK2 boots EFI/BOOT/BOOTAA64.EFI from the disk by itself (no startup.nsh and its
 * countdown); the console is the PL011 on stdout. -icount shift=0 makes the counter the
 * application reads count instructions, and sleep=off lets the firmware's waits pass at
 * once; -no-reboot turns a reset into QEMU's exit, so nothing boots twice.
 */
export function efiQemuArgs(efi: EfiGuest, files: { disk: string; vars: string }): string[] {
  return [
    '-M', efi.machine,
    '-cpu', efi.cpu,
    '-m', efi.memory,
    '-nodefaults',
    '-display', 'none',
    '-monitor', 'none',
    '-serial', 'stdio',
    '-no-reboot',
    '-icount', 'shift=0,sleep=off',
    '-drive', `if=pflash,format=raw,readonly=on,file=${efi.firmwareCode}`,
    '-drive', `if=pflash,format=raw,file=${files.vars}`,
    '-drive', `if=virtio,format=raw,file=${files.disk}`
  ];
}
