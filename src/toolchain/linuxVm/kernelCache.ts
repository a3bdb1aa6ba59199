/**
 * Where the linux-vm kernels live on this machine: one cache directory, by default
 * ~/.cache/edgespec/linux-vm (EDGESPEC_LINUX_VM_CACHE to move it), holding
 *   debian/            Debian's generic arm64 kernel, fetched by scripts/debian-arm64-kernel.sh
 *   source/<name>/     linux-source-6.1's tarball unpacked once
 *   purpose-built/<key>/  a purpose-built kernel: Image, config, kernel.json
 */
import { homedir } from 'os';
import * as path from 'path';

export function linuxVmCacheDir(): string {
  return process.env.EDGESPEC_LINUX_VM_CACHE || path.join(process.env.XDG_CACHE_HOME || path.join(homedir(), '.cache'), 'edgespec', 'linux-vm');
}

export function debianKernelDir(): string {
  return path.join(linuxVmCacheDir(), 'debian');
}

export const DEBIAN_KERNEL_FETCH = 'scripts/debian-arm64-kernel.sh (apt-get download of linux-image-cloud-arm64:arm64, about 21 MB; needs dpkg --add-architecture arm64 once)';
export const LINUX_SOURCE_INSTALL = 'apt-get install -y linux-source-6.1 flex bison bc make';
