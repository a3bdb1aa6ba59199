import { ProfileManifest } from '../../../src/common/types';
import { readProfile } from '../../../src/toolchain/run/profile';

const manifest: ProfileManifest = {
  unit: 'instructions',
  steps: [
    { step: 0, op: 'conv2d', kernel: 'conv2d', module: 'stem.0' },
    { step: 1, op: 'reshape', kernel: 'alias', module: 'head' }
  ]
};

it('joins the console counts with the build steps', () => {
  const text = 'edgespec: invoke_instructions=130\nedgespec: profile: unit=instructions steps=2\nedgespec: profile: step=0 count=112\nedgespec: profile: step=1 count=16\n';
  const profile = readProfile(manifest, text, 'qemu-virt')!;
  expect(profile.total).toBe(128);
  expect(profile.steps).toEqual([
    { step: 0, op: 'conv2d', kernel: 'conv2d', module: 'stem.0', count: 112 },
    { step: 1, op: 'reshape', kernel: 'alias', module: 'head', count: 16 }
  ]);
  expect(profile.how).toMatch(/cntvct_el0/);
});

it('gives no profile when the guest stopped before printing every step', () => {
  expect(readProfile(manifest, 'edgespec: profile: step=0 count=112\n', 'qemu-virt')).toBeUndefined();
  expect(readProfile(manifest, '', 'host')).toBeUndefined();
});
