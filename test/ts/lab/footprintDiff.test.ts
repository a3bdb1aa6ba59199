import { diffFootprints, netDelta, splitUnchanged } from '../../../src/lab/model/footprintDiff';
import { sampleFootprint } from './fixtures';

describe('diffFootprints', () => {
  const before = sampleFootprint();
  const after = sampleFootprint({ model: 'tiny_cnn_v2' });
  // after: the gemm kernel grows by 300 B, classifier weights vanish, a new layer appears
  const flash = after.tree.children![0];
  const kernels = flash.children![1];
  kernels.children![1] = { ...kernels.children![1], bytes: 1300 };
  const weights = flash.children![0];
  weights.children = [
    ...weights.children!.filter(node => node.name !== 'classifier.weight'),
    { name: 'head.weight', bytes: 800, kind: 'weights', source: 'layer:head' }
  ];
  after.totals.image_bytes = { value: 10600, how: 'st_size' };
  after.kernels = [
    { name: 'conv2d', ops: ['conv2d'], bytes: 1500 },
    { name: 'gemm', ops: ['conv2d', 'linear'], bytes: 1300 }
  ];

  const diff = diffFootprints(before, after, 'flash');

  it('labels both builds', () => {
    expect(diff.before).toBe('tiny_cnn · qemu-virt · float32');
    expect(diff.after).toBe('tiny_cnn_v2 · qemu-virt · float32');
  });

  it('lists every source of either build, biggest change first', () => {
    expect(diff.sources.slice(0, 3)).toEqual([
      { name: 'layer:head', before: 0, after: 800, delta: 800 },
      { name: 'layer:classifier', before: 500, after: 0, delta: -500 },
      { name: 'kernel:gemm.c', before: 1000, after: 1300, delta: 300 }
    ]);
    expect(diff.sources.find(row => row.name === 'platform')).toEqual({ name: 'platform', before: 900, after: 900, delta: 0 });
  });

  it('has source deltas that add up to the change of the side', () => {
    expect(netDelta(diff.sources)).toBe(800 - 500 + 300);
  });

  it('sums the deltas per source family', () => {
    expect(diff.families.map(row => [row.name, row.delta])).toEqual([
      ['weights', 300],
      ['kernels', 300],
      ['platform', 0],
      ['libc', 0],
      ['elf', 0],
      ['other', 0]
    ]);
    expect(netDelta(diff.families)).toBe(netDelta(diff.sources));
  });

  it('folds unchanged rows into a count', () => {
    const { changed, unchanged, unchangedBytes } = splitUnchanged(diff.sources);
    expect(changed.map(row => row.name)).toEqual(['layer:head', 'layer:classifier', 'kernel:gemm.c']);
    expect(unchanged).toBe(diff.sources.length - 3);
    expect(unchangedBytes).toBe(10600 - 800 - 1300);
  });

  it('diffs the measured totals and the kernels', () => {
    expect(diff.totals[0]).toEqual({ name: 'image file', before: 10000, after: 10600, delta: 600 });
    expect(diff.kernels[0]).toEqual({ name: 'gemm', before: 1000, after: 1300, delta: 300 });
  });

  it('diffs RAM when asked', () => {
    const ram = diffFootprints(before, after, 'ram');
    expect(ram.side).toBe('ram');
    expect(ram.sources.every(row => row.delta === 0)).toBe(true);
    expect(ram.sources.map(row => row.name)).toEqual(['model', 'platform']);
  });
});
