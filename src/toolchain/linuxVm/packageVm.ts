/**
 * A linux-vm build's boot files, beside the model's executable: kernel.Image (the chosen
 * kernel, copied so the build directory is complete on its own) and initramfs.cpio.gz, a
 * gzip'd newc archive with /init (the executable) and /dev/console. The same executable
 * always gives the same initramfs bytes (mtime 0 in cpio and gzip).
 */
import { createHash } from 'crypto';
import { readFileSync } from 'fs';
import { promises as fs } from 'fs';
import * as path from 'path';
import { gzipSync } from 'zlib';
import { Footprint, LinuxVmFootprint, LinuxVmManifest } from '../../common/types';
import { newcArchive } from './cpio';
import { findDebianKernel, VmKernel } from './vmKernel';

export const KERNEL_FILE = 'kernel.Image';
export const INITRAMFS_FILE = 'initramfs.cpio.gz';

/** QEMU's machine for the tests, and the kernel command line: the PL011 console, no boot chatter, a panic ends QEMU (-no-reboot). */
export const VM_QEMU = { machine: 'virt', cpu: 'cortex-a72', memory: '512M' };
export const VM_APPEND = 'console=ttyAMA0 quiet panic=-1';

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** The initramfs of an executable: /init, and /dev/console for the kernel to open as init's stdio. */
export function initramfsOf(executable: Buffer): { gz: Buffer; uncompressed: number } {
  const cpio = newcArchive([
    { kind: 'dir', name: 'dev' },
    { kind: 'char-device', name: 'dev/console', major: 5, minor: 1 },
    { kind: 'file', name: 'init', data: executable, mode: 0o755 }
  ]);
  return { gz: gzipSync(cpio, { level: 9 }), uncompressed: cpio.length };
}

export interface PackagedVm {
  manifest: LinuxVmManifest;
  footprint: LinuxVmFootprint;
  /** The generic stack's OS entry for footprint.json's reference_stack, when Debian's kernel is here. */
  referenceOs?: NonNullable<Footprint['reference_stack']>[number];
}

export async function packageLinuxVm(dir: string, executableFile: string, kernel: VmKernel, weightsBytes: number): Promise<PackagedVm> {
  const executable = await fs.readFile(path.join(dir, executableFile));
  const initramfs = initramfsOf(executable);
  await fs.writeFile(path.join(dir, INITRAMFS_FILE), initramfs.gz);
  await fs.copyFile(kernel.image, path.join(dir, KERNEL_FILE));
  const kernelBytes = readFileSync(path.join(dir, KERNEL_FILE));

  const manifest: LinuxVmManifest = {
    kernel: { kind: kernel.kind, file: KERNEL_FILE, bytes: kernelBytes.length, sha256: sha256(kernelBytes), version: kernel.version, source: kernel.source },
    initramfs: { file: INITRAMFS_FILE, bytes: initramfs.gz.length, sha256: sha256(initramfs.gz) },
    qemu: { ...VM_QEMU },
    append: VM_APPEND
  };
  const debian = await findDebianKernel();
  const footprint: LinuxVmFootprint = {
    kernel: { kind: kernel.kind, version: kernel.version, file: KERNEL_FILE, bytes: kernelBytes.length, source: kernel.source },
    initramfs: { file: INITRAMFS_FILE, bytes: initramfs.gz.length, uncompressed_bytes: initramfs.uncompressed },
    model_bytes: executable.length,
    weights_bytes: weightsBytes,
    total_bytes: kernelBytes.length + initramfs.gz.length,
    ...(debian
      ? {
          generic_kernel: {
            name: `Debian ${debian.info.package} ${debian.info.version}`,
            image_bytes: debian.info.image_bytes,
            installed_bytes: debian.info.installed_bytes,
            how: 'st_size of the package\'s boot/vmlinuz (the arm64 Image QEMU boots), and the sum of st_size of every file the package installs (Image, modules, System.map, config), from dpkg-deb -x of the .deb scripts/debian-arm64-kernel.sh fetched'
          }
        }
      : {}),
    how: 'st_size of kernel.Image and initramfs.cpio.gz in the build directory; the initramfs holds /init, the model\'s stripped static executable (image_bytes), and /dev/console'
  };
  const referenceOs = debian
    ? { name: `Linux kernel: Debian ${debian.info.package}`, bytes: debian.info.installed_bytes, how: footprint.generic_kernel!.how }
    : undefined;
  return { manifest, footprint, ...(referenceOs ? { referenceOs } : {}) };
}
