// A linux-vm footprint's report: what boots (kernel + initramfs) is what the generic stack is
// compared with, and the rows the footprint view and the offline report show.
import { Footprint } from '../../../src/common/types';
import { footprintStaticHtml } from '../../../src/common/report/footprintHtml';
import { linuxVmRows } from '../../../src/common/report/linuxVm';
import { compareWithReferenceStack } from '../../../src/common/report/referenceStack';

const measured = (value: number) => ({ value, how: 'st_size' });

function footprint(linuxVm: boolean): Footprint {
  return {
    format: 'edgespec.footprint',
    version: 1,
    model: 'm',
    target: linuxVm ? 'linux-vm' : 'linux',
    dtype: 'float32',
    image: { file: 'image.elf', bytes: 1000, sha256: '0'.repeat(64) },
    tree: { name: 'image', bytes: 1000, children: [{ name: 'flash', bytes: 1000, children: [{ name: 'weights', bytes: 600, kind: 'weights', source: 'model' }, { name: 'code', bytes: 400, kind: 'code', source: 'platform' }] }] },
    totals: { image_bytes: measured(1000), weights_bytes: measured(600), overhead_bytes: measured(400), flash_bytes: measured(1000), peak_ram_bytes: measured(2000) },
    arena: { bytes: 10, lower_bound: 10, how: 'planner' },
    kernels: [],
    reference_stack: [{ name: 'Python', bytes: 1_000_000, how: 'files' }, { name: 'Linux kernel: Debian linux-image-x-cloud-arm64', bytes: 100_000, how: 'dpkg' }],
    ...(linuxVm
      ? {
          linux_vm: {
            kernel: { kind: 'purpose-built', version: '6.1.192', file: 'kernel.Image', bytes: 3000, source: 'linux-source-6.1' },
            initramfs: { file: 'initramfs.cpio.gz', bytes: 900, uncompressed_bytes: 1200 },
            model_bytes: 1000,
            weights_bytes: 600,
            total_bytes: 3900,
            generic_kernel: { name: 'Debian linux-image-x-cloud-arm64 1', image_bytes: 27000, installed_bytes: 100_000, how: 'dpkg-deb -x' },
            how: 'st_size'
          }
        }
      : {})
  } as Footprint;
}

it('the generic stack is compared with kernel + initramfs for linux-vm, with the image elsewhere', () => {
  const vm = compareWithReferenceStack(footprint(true))!;
  expect(vm.bars[0]).toMatchObject({ isImage: true, bytes: 3900, name: 'edgespec linux-vm (m): purpose-built kernel + initramfs' });
  expect(vm.timesSmaller).toBeCloseTo(1_100_000 / 3900);
  const plain = compareWithReferenceStack(footprint(false))!;
  expect(plain.bars[0]).toMatchObject({ isImage: true, bytes: 1000, name: 'edgespec image (m)' });
});

it('the rows: kernel and initramfs add up to the total; the model sits inside; Debian\'s kernel beside', () => {
  const rows = linuxVmRows(footprint(true));
  const parts = rows.filter(r => r.role === 'part');
  expect(parts.map(r => r.bytes)).toEqual([3000, 900]);
  expect(rows.find(r => r.role === 'total')!.bytes).toBe(parts.reduce((a, r) => a + r.bytes, 0));
  expect(rows.filter(r => r.role === 'inside').map(r => r.bytes)).toEqual([1000, 600]);
  expect(rows.filter(r => r.role === 'generic').map(r => r.bytes)).toEqual([27000, 100_000]);
  expect(linuxVmRows(footprint(false))).toEqual([]);
  const html = footprintStaticHtml(footprint(true));
  expect(html).toContain('What boots (linux-vm)');
  expect(html).toContain('3,900');
});
