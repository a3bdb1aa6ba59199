/**
 * `edgespec doctor`'s efi lines: dosfstools (mkfs.fat) and mtools, which make the FAT disk
 * image, and Debian's EDK2 firmware for QEMU (AAVMF), which boots it. Only the efi target
 * needs them, so none is required.
 */
import execa from 'execa';
import { existsSync } from 'fs';
import { findOnPath } from '../tools/locate';
import type { ToolStatus } from '../tools/toolStatus';
import { loadTarget } from '../build/targets';
import { mkfsFatPath } from './fatDisk';

const TIMEOUT_MS = 15_000;

async function dpkgVersion(pkg: string): Promise<string | undefined> {
  const dpkg = findOnPath('dpkg-query');
  if (!dpkg) return undefined;
  const run = await execa(dpkg, ['-W', '-f=${Version}', pkg], { reject: false, timeout: TIMEOUT_MS });
  return run.exitCode === 0 && run.stdout.trim() ? run.stdout.trim() : undefined;
}

export async function checkDosfstools(): Promise<ToolStatus> {
  const base = { id: 'dosfstools' as const, label: 'mkfs.fat (efi\'s FAT disk image)', required: false, install: 'apt-get install -y dosfstools' };
  const file = mkfsFatPath();
  if (!file) return { ...base, found: false, detail: 'mkfs.fat is not on PATH nor in /usr/sbin' };
  return { ...base, found: true, path: file, version: await dpkgVersion('dosfstools') };
}

export async function checkMtools(): Promise<ToolStatus> {
  const base = { id: 'mtools' as const, label: 'mtools mmd/mcopy (efi\'s FAT disk image)', required: false, install: 'apt-get install -y mtools' };
  const missing = ['mmd', 'mcopy'].filter(t => !findOnPath(t));
  if (missing.length) return { ...base, found: false, detail: `${missing.join(' and ')} not on PATH` };
  return { ...base, found: true, path: findOnPath('mcopy'), version: await dpkgVersion('mtools') };
}

export async function checkEfiFirmware(): Promise<ToolStatus> {
  const base = { id: 'efi-firmware' as const, label: 'UEFI firmware for QEMU (efi runs)', required: false, install: 'apt-get install -y qemu-efi-aarch64' };
  const efi = loadTarget('efi').efi!;
  const missing = [efi.firmwareCode, efi.firmwareVars].filter(f => !existsSync(f));
  if (missing.length) return { ...base, found: false, detail: `${missing.join(' and ')} missing` };
  return { ...base, found: true, path: efi.firmwareCode, version: await dpkgVersion('qemu-efi-aarch64') };
}
