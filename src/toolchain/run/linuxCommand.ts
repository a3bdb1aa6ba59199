import * as path from 'path';
import { RunnableBuild } from './buildDir';
import { GuestCommand, INPUT_FILE, OUTPUT_FILE } from './guestCommand';

/**
 * The linux target is a static AArch64 executable; off an ARM64 board it runs under QEMU's
 * user-mode emulator with the CPU it was compiled for. User mode has no -icount (and this
 * QEMU ships no instruction-counting plugin), so a linux run reports wall time only.
 */
export function linuxCommand(build: RunnableBuild, emulatorPath: string, workDir: string, extraArgs: string[] = []): GuestCommand {
  const cpu = build.userMode?.cpu ?? 'cortex-a72';
  const files = (build.hostArgv ?? ['INPUT_FILE', 'OUTPUT_FILE']).map(a => path.join(workDir, a === 'INPUT_FILE' ? INPUT_FILE : OUTPUT_FILE));
  return {
    command: emulatorPath,
    args: ['-cpu', cpu, build.image, ...files, ...extraArgs],
    wallHow: `process.hrtime from starting ${path.basename(emulatorPath)} -cpu ${cpu} (user-mode emulation) to its exit: reading the input, one inference, writing the output; no instruction count (qemu-aarch64 has no -icount)`
  };
}
