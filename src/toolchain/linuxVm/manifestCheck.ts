/** build.json's linux_vm, checked: what reaches QEMU's command line must be this edgespec's own values. */
import { LinuxVmManifest } from '../../common/types';
import { INITRAMFS_FILE, KERNEL_FILE, VM_APPEND, VM_QEMU } from './packageVm';
import { KERNEL_KINDS } from './vmKernel';

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const isSha256 = (v: unknown): v is string => typeof v === 'string' && /^[0-9a-f]{64}$/.test(v);
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

export function checkedLinuxVm(v: unknown, bad: (field: string, want: string) => never, notOurs: (field: string, got: unknown, want: string) => never): LinuxVmManifest {
  if (!isObject(v) || !isObject(v.kernel) || !isObject(v.initramfs) || !isObject(v.qemu)) return bad('linux_vm', 'an object with kernel, initramfs, qemu and append');
  const { kernel, initramfs, qemu } = v;
  if (kernel.file !== KERNEL_FILE) notOurs('linux_vm.kernel.file', kernel.file, KERNEL_FILE);
  if (initramfs.file !== INITRAMFS_FILE) notOurs('linux_vm.initramfs.file', initramfs.file, INITRAMFS_FILE);
  if (!(KERNEL_KINDS as readonly unknown[]).includes(kernel.kind)) bad('linux_vm.kernel.kind', KERNEL_KINDS.join(' or '));
  if (!isSha256(kernel.sha256)) bad('linux_vm.kernel.sha256', 'a sha256 in 64 lowercase hex digits');
  if (!isSha256(initramfs.sha256)) bad('linux_vm.initramfs.sha256', 'a sha256 in 64 lowercase hex digits');
  if (!isCount(kernel.bytes) || !isCount(initramfs.bytes)) bad('linux_vm bytes', 'byte counts');
  if (typeof kernel.version !== 'string' || typeof kernel.source !== 'string') bad('linux_vm.kernel', 'an object with version and source');
  for (const key of ['machine', 'cpu', 'memory'] as const) {
    if (qemu[key] !== VM_QEMU[key]) notOurs(`linux_vm.qemu.${key}`, qemu[key], VM_QEMU[key]);
  }
  if (v.append !== VM_APPEND) notOurs('linux_vm.append', v.append, VM_APPEND);
  return {
    kernel: { kind: kernel.kind as LinuxVmManifest['kernel']['kind'], file: KERNEL_FILE, bytes: kernel.bytes as number, sha256: kernel.sha256 as string, version: kernel.version as string, source: kernel.source as string },
    initramfs: { file: INITRAMFS_FILE, bytes: initramfs.bytes as number, sha256: initramfs.sha256 as string },
    qemu: { ...VM_QEMU },
    append: VM_APPEND
  };
}
