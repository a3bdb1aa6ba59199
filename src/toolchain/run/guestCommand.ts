import * as path from 'path';
import { executableArgs, GuestFiles, qemuVirtArgs } from '../guest/guestArgs';
import { RunnableBuild } from './buildDir';

export const INPUT_FILE = 'input.bin';
export const OUTPUT_FILE = 'output.bin';

export interface GuestCommand {
  command: string;
  args: string[];
  /** What the wall time covers, for run.json. */
  wallHow: string;
}

/** The files of a run: the staged image, and the input and output in the run's private directory. */
export function runFiles(build: RunnableBuild, workDir: string): GuestFiles {
  return { image: build.image, input: path.join(workDir, INPUT_FILE), output: path.join(workDir, OUTPUT_FILE) };
}

/** The qemu-virt image in QEMU's `virt` machine (src/toolchain/guest/guestArgs.ts; boot.sh starts the same). */
export function qemuVirtCommand(build: RunnableBuild, qemuPath: string, workDir: string): GuestCommand {
  return {
    command: qemuPath,
    args: qemuVirtArgs(build.qemu!, runFiles(build, workDir)),
    wallHow: 'process.hrtime from starting qemu-system-aarch64 to its exit: boot, loading the input, one inference, writing output.bin through semihosting'
  };
}

/** The host executable reads the input file and writes the output file named on its command line. */
export function hostCommand(build: RunnableBuild, workDir: string): GuestCommand {
  return {
    command: build.image,
    args: executableArgs(build, runFiles(build, workDir)),
    wallHow: 'process.hrtime from starting the host executable to its exit: reading the input, inference, writing the output'
  };
}
