/**
 * A linux-vm build's footprint: what boots (the kernel and the initramfs, with the model's
 * executable inside), and Debian's generic arm64 kernel measured beside it.
 */
import type { Footprint } from '../../common/types';
import { formatBytes } from '../../common/report/format';
import { formatTimes } from '../../common/report/referenceStack';
import { linuxVmRows } from '../../common/report/linuxVm';
import { dataTable, h } from './dom';

export function renderLinuxVmSection(footprint: Footprint): HTMLElement | null {
  const rows = linuxVmRows(footprint);
  const vm = footprint.linux_vm;
  if (!vm || rows.length === 0) return null;
  const section = h('section', 'jp-edgespec-section jp-edgespec-linux-vm');
  section.append(h('h4', {}, 'What boots: kernel + initramfs'));
  const generic = vm.generic_kernel;
  if (generic) {
    section.append(
      h('p', 'jp-edgespec-stack-lead', `${formatBytes(vm.total_bytes)} boot the model, against ${formatBytes(generic.image_bytes)} for Debian's generic kernel Image alone (${formatTimes(generic.image_bytes / Math.max(1, vm.total_bytes))}).`)
    );
  }
  section.append(
    dataTable(
      ['', 'bytes', 'how it was measured'],
      rows.map(r => [r.label, formatBytes(r.bytes), r.how]),
      { numeric: [false, true, false], rowClass: i => (rows[i].role === 'total' ? 'jp-mod-sum' : rows[i].role === 'inside' ? 'jp-mod-inside' : '') }
    )
  );
  return section;
}
