/**
 * `edgespec run` of an efi build: a fresh disk image in the run's directory holding
 * EFI/BOOT/BOOTAA64.EFI and input.bin, a private copy of the firmware's variables, QEMU with
 * EDK2; afterwards output.bin is copied off the disk, and the run's exit status is the one
 * the application printed (it powers the machine off, so QEMU itself exits 0).
 */
import execa from 'execa';
import { existsSync, promises as fs } from 'fs';
import * as path from 'path';
import { EdgespecError } from '../errors';
import { efiQemuArgs } from '../guest/guestArgs';
import { encodedIoFileBytes } from '../guest/ioFile';
import { RunnableBuild } from '../run/buildDir';
import { GuestCommand, INPUT_FILE, OUTPUT_FILE } from '../run/guestCommand';
import { LaunchResult } from '../run/launch';
import { copyFromFatDisk, makeFatDisk, ToolRunner } from './fatDisk';

export const EFI_DISK = 'disk.img';
const EFI_VARS = 'vars.fd';
const DISK_TOOL_TIMEOUT_MS = 60_000;

const FIRMWARE_HINT = 'install with: apt-get install -y qemu-efi-aarch64 (Debian\'s EDK2 for QEMU, /usr/share/AAVMF)';

/** mtools and mkfs.fat for a run: their output becomes the error. */
const runDiskTool: ToolRunner = async (file, args, what) => {
  const result = await execa(file, args, { reject: false, all: true, timeout: DISK_TOOL_TIMEOUT_MS, env: { LC_ALL: 'C', MTOOLS_SKIP_CHECK: '1' }, stdin: 'ignore' });
  if (result.exitCode !== 0 || result.timedOut) {
    throw new EdgespecError('efi-disk-failed', `${what} failed (${path.basename(file)} ${result.timedOut ? 'timed out' : `exit ${result.exitCode}`}): ${(result.all ?? '').trim().split('\n').slice(-3).join(' | ')}`, 'check that the run\'s temporary directory has space (df -h /tmp) and that mtools and dosfstools work (edgespec doctor)');
  }
};

export function requireEfiFirmware(build: Pick<RunnableBuild, 'efi'>): void {
  for (const file of [build.efi!.firmwareCode, build.efi!.firmwareVars]) {
    if (!existsSync(file)) throw new EdgespecError('missing-tool', `missing the UEFI firmware for QEMU: ${file} does not exist`, FIRMWARE_HINT, { tool: 'efi-firmware' });
  }
}

/** Writes the run's disk and variables into `workDir` (which holds input.bin) and returns QEMU's command line. */
export async function efiCommand(build: RunnableBuild, qemuPath: string, workDir: string): Promise<GuestCommand> {
  requireEfiFirmware(build);
  const efi = build.efi!;
  const disk = path.join(workDir, EFI_DISK);
  const vars = path.join(workDir, EFI_VARS);
  const outputBytes = encodedIoFileBytes(build.outputs.map(o => o.bytes));
  await makeFatDisk(disk, [
    { source: build.image, dest: 'EFI/BOOT/BOOTAA64.EFI' },
    { source: path.join(workDir, INPUT_FILE), dest: INPUT_FILE }
  ], 2 * outputBytes, runDiskTool);
  await fs.copyFile(efi.firmwareVars, vars);
  await fs.chmod(vars, 0o600);
  return {
    command: qemuPath,
    args: efiQemuArgs(efi, { disk, vars }),
    wallHow: 'process.hrtime from starting qemu-system-aarch64 to its exit: the EDK2 firmware\'s boot, loading BOOTAA64.EFI, reading input.bin, one inference, writing output.bin, the power-off'
  };
}

/**
 * A disk with the application and no input.bin, which makes it serve frames on the
 * firmware's serial port (QEMU's PL011 on stdin/stdout, shared with EDK2's console); returns
 * QEMU's arguments.
 */
export async function efiServeArgs(build: RunnableBuild, workDir: string): Promise<string[]> {
  requireEfiFirmware(build);
  const disk = path.join(workDir, EFI_DISK);
  const vars = path.join(workDir, EFI_VARS);
  await makeFatDisk(disk, [{ source: build.image, dest: 'EFI/BOOT/BOOTAA64.EFI' }], 0, runDiskTool);
  await fs.copyFile(build.efi!.firmwareVars, vars);
  await fs.chmod(vars, 0o600);
  return efiQemuArgs(build.efi!, { disk, vars });
}

/**
 * After QEMU: the exit status the application printed ("status=failed exit=N"; QEMU exits 0
 * on the power-off) and, from a run that went well, output.bin copied off the disk.
 */
export async function finishEfiRun(launched: LaunchResult, workDir: string): Promise<LaunchResult> {
  if (launched.timedOut || launched.spawnError || launched.exitCode !== 0) return launched;
  const failed = /edgespec: status=failed exit=(\d+)/.exec(launched.console);
  if (failed) return { ...launched, exitCode: Number(failed[1]) };
  if (/edgespec: status=ok/.test(launched.console)) {
    await copyFromFatDisk(path.join(workDir, EFI_DISK), OUTPUT_FILE, path.join(workDir, OUTPUT_FILE), runDiskTool);
  }
  return launched;
}
