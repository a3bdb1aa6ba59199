import { benchMarkdown } from '../../../src/toolchain/bench/benchMarkdown';
import { BenchReport } from '../../../src/toolchain/bench/benchTypes';
import { median } from '../../../src/toolchain/bench/stats';

const report: BenchReport = {
  format: 'edgespec.bench',
  version: 1,
  date: '2026-01-01T00:00:00.000Z',
  machine: { cpu: 'Test CPU', cores: 2, os: 'Linux', node: '20.0.0', qemu: '7.2.22' },
  settings: { runs: 20, warmup: 3, host_repeats: 23, input: 'reference input' },
  models: [
    {
      model: 'mobilenet_v2',
      agrees: true,
      image_bytes: { value: 14009512, how: 'st_size of image.elf' },
      host_ms: { value: 5.5, how: 'median of 23 calls' },
      onnxruntime_ms: { value: 4.4, how: 'onnxruntime one thread' },
      host_vs_onnxruntime: { value: 1.25, how: 'host ms / onnxruntime ms' },
      runs: [],
      errors: []
    },
    { model: 'resnet18', agrees: false, runs: [], errors: ['qemu-virt run: mismatch: max abs error 1'] }
  ]
};

describe('benchMarkdown', () => {
  const md = benchMarkdown(report);

  it('writes one table row per model, with a dash for what was not measured', () => {
    const rows = md.split('\n').filter(l => l.startsWith('| mobilenet_v2') || l.startsWith('| resnet18'));
    expect(rows[0]).toContain('| yes | 14,009,512 |');
    expect(rows[0]).toContain('| 5.50 | 4.40 |');
    expect(rows[0]).toContain('| 1.25x |');
    expect(rows[1]).toMatch(/^\| resnet18 \| \*\*no\*\* \| – \|/);
  });

  it('says how every column was measured, and lists the problems', () => {
    expect(md).toContain('- **image bytes**: st_size of image.elf');
    expect(md).toContain('- **host / onnxruntime**: host ms / onnxruntime ms');
    expect(md).toContain('- **PyTorch ms**: not measured');
    expect(md).toContain('## Problems\n\n- resnet18: qemu-virt run: mismatch: max abs error 1');
  });
});

describe('median', () => {
  it('takes the middle value, or the mean of the two middle ones', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(() => median([])).toThrow();
  });
});
