/**
 * `edgespec doctor`'s linux-vm lines: linux-source-6.1 and the tools that build the
 * purpose-built kernel, and Debian's generic arm64 kernel. Neither is needed by the other
 * targets, so neither is required.
 */
import type { ToolStatus } from '../tools/toolStatus';
import { DEBIAN_KERNEL_FETCH, debianKernelDir, LINUX_SOURCE_INSTALL } from './kernelCache';
import { LINUX_SOURCE_TARBALL, purposeBuiltKernelProblem } from './purposeBuiltKernel';
import { findDebianKernel } from './vmKernel';

export async function checkLinuxSource(): Promise<ToolStatus> {
  const base = { id: 'linux-source' as const, label: 'linux-source-6.1 (linux-vm\'s purpose-built kernel)', required: false, install: LINUX_SOURCE_INSTALL };
  const problem = purposeBuiltKernelProblem();
  if (problem) return { ...base, found: false, detail: problem.message };
  return { ...base, found: true, path: process.env.EDGESPEC_LINUX_SOURCE || LINUX_SOURCE_TARBALL };
}

export async function checkDebianKernel(): Promise<ToolStatus> {
  const base = { id: 'debian-arm64-kernel' as const, label: 'Debian arm64 kernel (linux-vm --kernel debian)', required: false, install: DEBIAN_KERNEL_FETCH };
  const found = await findDebianKernel();
  if (!found) return { ...base, found: false, detail: `not fetched into ${debianKernelDir()}` };
  return { ...base, found: true, path: found.image, version: `${found.info.package} ${found.info.version}` };
}
