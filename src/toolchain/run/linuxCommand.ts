import * as path from 'path';
import { linuxCpu, linuxEmulatorArgs } from '../guest/guestArgs';
import { RunnableBuild } from './buildDir';
import { GuestCommand, runFiles } from './guestCommand';

/**
 * The linux target under QEMU's user-mode emulator (src/toolchain/guest/guestArgs.ts). User
 * mode has no -icount (and this QEMU ships no instruction-counting plugin), so a linux run
 * reports wall time only.
 */
export function linuxCommand(build: RunnableBuild, emulatorPath: string, workDir: string, extraArgs: string[] = []): GuestCommand {
  const cpu = linuxCpu(build);
  return {
    command: emulatorPath,
    args: [...linuxEmulatorArgs(build, runFiles(build, workDir)), ...extraArgs],
    wallHow: `process.hrtime from starting ${path.basename(emulatorPath)} -cpu ${cpu} (user-mode emulation) to its exit: reading the input, one inference, writing the output; no instruction count (qemu-aarch64 has no -icount)`
  };
}
