/**
 * A linux-vm footprint's boot files (footprint.json's linux_vm): what boots, of which the
 * model's executable is a part, beside Debian's generic arm64 kernel. Pure, no DOM.
 */
import type { Footprint } from '../types';

export interface LinuxVmRow {
  label: string;
  bytes: number;
  how: string;
  /** The rows that add up to what boots are 'part'; the sum is 'total'; the comparison 'generic'. */
  role: 'part' | 'inside' | 'total' | 'generic';
}

export function linuxVmRows(footprint: Footprint): LinuxVmRow[] {
  const vm = footprint.linux_vm;
  if (!vm) return [];
  const rows: LinuxVmRow[] = [
    { label: `kernel (${vm.kernel.kind}, Linux ${vm.kernel.version})`, bytes: vm.kernel.bytes, how: vm.kernel.source, role: 'part' },
    { label: 'initramfs (gzip)', bytes: vm.initramfs.bytes, how: `${vm.initramfs.uncompressed_bytes} bytes unpacked: /init and /dev/console`, role: 'part' },
    { label: 'model executable (/init)', bytes: vm.model_bytes, how: 'the stripped static executable, inside the initramfs', role: 'inside' },
    { label: 'of which weights', bytes: vm.weights_bytes, how: 'the packed weights inside the executable', role: 'inside' },
    { label: 'kernel + initramfs', bytes: vm.total_bytes, how: vm.how, role: 'total' }
  ];
  const generic = vm.generic_kernel;
  if (generic) {
    rows.push({ label: `generic kernel: ${generic.name} (Image)`, bytes: generic.image_bytes, how: generic.how, role: 'generic' });
    rows.push({ label: `generic kernel with its modules (installed)`, bytes: generic.installed_bytes, how: generic.how, role: 'generic' });
  }
  return rows;
}
