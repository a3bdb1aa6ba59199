/**
 * The kernel a linux-vm build boots (`edgespec build --kernel`): the purpose-built one
 * (default) or Debian's generic arm64 kernel, which scripts/debian-arm64-kernel.sh fetches
 * into the cache (never at build time: the machine may be offline).
 */
import { promises as fs } from 'fs';
import * as path from 'path';
import { EdgespecError } from '../errors';
import { DEBIAN_KERNEL_FETCH, debianKernelDir } from './kernelCache';
import { purposeBuiltKernel } from './purposeBuiltKernel';

export const KERNEL_KINDS = ['purpose-built', 'debian'] as const;
export type KernelKind = (typeof KERNEL_KINDS)[number];
export const DEFAULT_KERNEL: KernelKind = 'purpose-built';

export interface VmKernel {
  kind: KernelKind;
  /** The arm64 Image, absolute. */
  image: string;
  version: string;
  /** Where it came from, for build.json and footprint.json. */
  source: string;
}

/** Debian's kernel package as scripts/debian-arm64-kernel.sh recorded it. */
export interface DebianKernelPackage {
  package: string;
  version: string;
  deb_bytes: number;
  image_bytes: number;
  /** Bytes of everything the package installs (the Image, its modules, System.map, config). */
  installed_bytes: number;
}

/** The fetched Debian kernel, or undefined when it has not been fetched. */
export async function findDebianKernel(): Promise<{ image: string; info: DebianKernelPackage } | undefined> {
  const dir = debianKernelDir();
  try {
    const info = JSON.parse(await fs.readFile(path.join(dir, 'package.json'), 'utf8')) as DebianKernelPackage;
    const image = path.join(dir, 'Image');
    if (!(await fs.stat(image)).isFile() || typeof info.package !== 'string') return undefined;
    return { image, info };
  } catch {
    return undefined;
  }
}

export async function vmKernel(kind: KernelKind, progress: (done: number, total: number, message: string) => void): Promise<VmKernel> {
  if (kind === 'debian') {
    const found = await findDebianKernel();
    if (!found) {
      throw new EdgespecError('debian-kernel-missing', `Debian's generic arm64 kernel is not in ${debianKernelDir()}`, `fetch it once with ${DEBIAN_KERNEL_FETCH}; or build with --kernel purpose-built`);
    }
    return { kind, image: found.image, version: found.info.version, source: `Debian ${found.info.package} ${found.info.version} (boot/vmlinuz)` };
  }
  const built = await purposeBuiltKernel(progress);
  return {
    kind,
    image: built.image,
    version: built.version,
    source: `linux-source-6.1 ${built.version}, make allnoconfig + kernels/platform/linux-vm/kernel.config (cache key ${built.key}, cold build ${built.buildSeconds} s)`
  };
}
