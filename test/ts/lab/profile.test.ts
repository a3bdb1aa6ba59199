import type { RunProfile, RunReport } from '../../../src/common/types';
import { profileByLayer, profileByOp, profileSum } from '../../../src/lab/model/profile';
import { sampleRun } from './fixtures';

const profile: RunProfile = {
  unit: 'instructions',
  how: 'QEMU -icount between marks',
  total: 1000,
  steps: [
    { step: 0, op: 'conv2d', kernel: 'es_conv2d_f32', module: 'features.0', count: 400 },
    { step: 1, op: 'relu', kernel: 'es_relu_f32', module: 'features.1', count: 50 },
    { step: 2, op: 'conv2d', kernel: 'es_dwconv_f32', module: 'features.2', count: 300 },
    { step: 3, op: 'linear', kernel: 'es_linear_f32', module: 'classifier', count: 250 }
  ]
};

function withProfile(fields: Partial<RunReport>): RunReport {
  return { ...sampleRun(), profile, ...fields };
}

describe('the profile', () => {
  it('has one bar per layer, largest first, each with its share of the steps', () => {
    expect(profileByLayer(profile).map(bar => [bar.label, bar.detail, bar.count, bar.share])).toEqual([
      ['#0 features.0', 'conv2d · es_conv2d_f32', 400, 0.4],
      ['#2 features.2', 'conv2d · es_dwconv_f32', 300, 0.3],
      ['#3 classifier', 'linear · es_linear_f32', 250, 0.25],
      ['#1 features.1', 'relu · es_relu_f32', 50, 0.05]
    ]);
  });

  it('sums each op type over its steps, largest first', () => {
    expect(profileByOp(profile).map(bar => [bar.label, bar.detail, bar.count, bar.share])).toEqual([
      ['conv2d', '2 steps', 700, 0.7],
      ['linear', '1 step', 250, 0.25],
      ['relu', '1 step', 50, 0.05]
    ]);
  });

  it('names a step without a module by its op, and shares nothing of an empty profile', () => {
    const unnamed = { ...profile, steps: [{ step: 0, op: 'mean', kernel: 'es_mean_f32', module: '', count: 0 }] };
    expect(profileByLayer(unnamed)).toEqual([{ label: '#0 mean', detail: 'mean · es_mean_f32', count: 0, share: 0 }]);
  });

  it('compares the sum of the steps with the whole-invoke count', () => {
    expect(profileSum(withProfile({ guest_instructions: { value: 1010, how: '-icount' } }))).toEqual({
      unit: 'instructions',
      steps: 1000,
      whole: 1010,
      ratio: 1000 / 1010
    });
    expect(profileSum(withProfile({ guest_instructions: undefined }))).toEqual({ unit: 'instructions', steps: 1000, whole: null, ratio: null });
    // a host profile counts nanoseconds: no instruction count to compare with
    expect(profileSum(withProfile({ profile: { ...profile, unit: 'ns' }, guest_instructions: { value: 5, how: 'x' } }))?.ratio).toBeNull();
    expect(profileSum({ ...sampleRun(), profile: undefined })).toBeNull();
  });
});
