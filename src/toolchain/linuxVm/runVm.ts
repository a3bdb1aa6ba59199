/**
 * One run of a linux-vm build: QEMU's virt machine boots kernel.Image with the build's
 * initramfs followed by a second archive holding /input.bin (the kernel unpacks both); /init
 * runs the model once, prints its console lines, sends the outputs file back as an OUTPUT
 * frame (kernels/include/edgespec/frame.h) and powers off, which ends QEMU. The console is
 * the PL011 UART, written by QEMU to a file so that the frame's bytes arrive untouched.
 */
import { promises as fs } from 'fs';
import * as path from 'path';
import { RunnableBuild } from '../run/buildDir';
import { GuestCommand, INPUT_FILE, OUTPUT_FILE } from '../run/guestCommand';
import { LaunchResult } from '../run/launch';
import { stageImage } from '../run/stageImage';
import { decodeOutput, FrameType } from '../serve/frame';
import { FrameStreamReader } from '../serve/streamReader';
import { newcArchive } from './cpio';
import { linuxVmArgs, ONE_SHOT } from './vmArgs';
export { linuxVmArgs, ONE_SHOT };

export const CONSOLE_FILE = 'console.bin';
const INITRD_FILE = 'initrd.img';
/**
 * Stages the kernel and the initramfs (each checked against build.json's sha256, like the
 * image), appends the input's archive and returns the QEMU command.
 */
export async function linuxVmCommand(build: RunnableBuild, qemuPath: string, workDir: string): Promise<GuestCommand> {
  const vm = build.linuxVm!;
  const staged = async (file: string, sha256: string) => stageImage({ ...build, image: path.join(build.dir, file), imageSha256: sha256 }, workDir);
  const kernel = await staged(vm.kernel.file, vm.kernel.sha256);
  const initramfs = await staged(vm.initramfs.file, vm.initramfs.sha256);
  const input = await fs.readFile(path.join(workDir, INPUT_FILE));
  const initrd = path.join(workDir, INITRD_FILE);
  const first = await fs.readFile(initramfs);
  // the kernel looks for a following archive at a 4-byte boundary only (zeros between are skipped)
  const padding = Buffer.alloc((4 - (first.length % 4)) % 4);
  await fs.writeFile(initrd, Buffer.concat([first, padding, newcArchive([{ kind: 'file', name: 'input.bin', data: input }])]));
  await fs.rm(initramfs);
  return {
    command: qemuPath,
    args: linuxVmArgs(vm, { kernel, initrd, console: path.join(workDir, CONSOLE_FILE) }, ONE_SHOT),
    wallHow: `process.hrtime from starting qemu-system-aarch64 to its exit: booting the ${vm.kernel.kind} kernel ${vm.kernel.version}, unpacking the initramfs, one inference, the outputs over the serial console, power off`
  };
}

/**
 * A serving boot (`edgespec run --inputs`): the kernel and the build's initramfs alone, so
 * /init serves frames on the console, which is QEMU's stdin/stdout.
 */
export async function linuxVmServeArgs(build: RunnableBuild, workDir: string): Promise<string[]> {
  const vm = build.linuxVm!;
  const staged = async (file: string, sha256: string) => stageImage({ ...build, image: path.join(build.dir, file), imageSha256: sha256 }, workDir);
  return linuxVmArgs(vm, { kernel: await staged(vm.kernel.file, vm.kernel.sha256), initrd: await staged(vm.initramfs.file, vm.initramfs.sha256), console: 'stdio' });
}

/**
 * Reads the console QEMU wrote: its text becomes the run's console, and the OUTPUT frame's
 * outputs file becomes output.bin, which the run then reads as on every other target.
 */
export async function collectVmConsole(launched: LaunchResult, workDir: string): Promise<LaunchResult> {
  const bytes = await fs.readFile(path.join(workDir, CONSOLE_FILE)).catch(() => Buffer.alloc(0));
  const reader = new FrameStreamReader();
  const lines: string[] = [];
  for (const event of reader.push(bytes)) {
    if (event.kind === 'line') lines.push(event.text);
    else if (event.kind === 'bad-frame') lines.push(`edgespec: error: a damaged frame on the console (${event.reason})`);
    else if (event.frame.type === FrameType.Output) await fs.writeFile(path.join(workDir, OUTPUT_FILE), decodeOutput(event.frame.payload).outputsFile);
  }
  const rest = reader.pendingText();
  if (rest) lines.push(rest);
  const text = lines.map(l => l.replace(/\r$/, '')).join('\n');
  // QEMU ends with 0 when /init powers off; the runner's status is in the console
  const failed = /^edgespec: status=failed exit=(\d+)/m.exec(text) ?? /^edgespec: init: exit=([1-9]\d*)/m.exec(text);
  const exitCode = launched.exitCode === 0 && !launched.timedOut && failed ? Number(failed[1]) : launched.exitCode;
  return { ...launched, exitCode, console: `${text}${text ? '\n' : ''}${launched.console}` };
}
