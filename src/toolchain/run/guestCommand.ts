import * as path from 'path';
import { RunnableBuild } from './buildDir';

export const INPUT_FILE = 'input.bin';
export const OUTPUT_FILE = 'output.bin';

export interface GuestCommand {
  command: string;
  args: string[];
  /** What the wall time covers, for run.json. */
  wallHow: string;
}

/**
 * The qemu-virt image boots in QEMU's `virt` machine: the loader puts input.bin at the
 * address the image reads it from, semihosting writes output.bin into the working
 * directory and ends QEMU with the run's status; -icount shift=0 makes the guest's
 * virtual counter count instructions.
 */
export function qemuVirtCommand(build: RunnableBuild, qemuPath: string, workDir: string): GuestCommand {
  const qemu = build.qemu!;
  return {
    command: qemuPath,
    args: [
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
      '-kernel', build.image,
      '-device', `loader,file=${path.join(workDir, INPUT_FILE)},addr=${qemu.inputAddress},force-raw=on`
    ],
    wallHow: 'process.hrtime from starting qemu-system-aarch64 to its exit: boot, loading the input, one inference, writing output.bin through semihosting'
  };
}

/** The host executable reads the input file and writes the output file named on its command line. */
export function hostCommand(build: RunnableBuild, workDir: string): GuestCommand {
  return {
    command: build.image,
    args: (build.hostArgv ?? ['INPUT_FILE', 'OUTPUT_FILE']).map(a => path.join(workDir, a === 'INPUT_FILE' ? INPUT_FILE : OUTPUT_FILE)),
    wallHow: 'process.hrtime from starting the host executable to its exit: reading the input, inference, writing the output'
  };
}
