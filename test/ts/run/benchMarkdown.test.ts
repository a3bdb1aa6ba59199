import { benchMarkdown } from '../../../src/toolchain/bench/benchMarkdown';
import { BenchReport } from '../../../src/toolchain/bench/benchTypes';
import { benchPlan, describeDtypes } from '../../../src/toolchain/bench/benchPlan';
import { median } from '../../../src/toolchain/bench/stats';
import { portableHow } from '../../../src/toolchain/bench/benchPortable';

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
      linux_vs_onnxruntime_arm64: { value: 0.9, how: 'linux ms / onnxruntime arm64 ms' },
      runs: [],
      errors: []
    },
    {
      model: 'mobilenet_v2',
      dtype: 'int8',
      agrees: true,
      image_bytes: { value: 3512000, how: 'st_size of image.elf' },
      guest_instructions: { value: 123456789, how: 'QEMU icount' },
      guest_instructions_portable: { value: 246913578, how: 'the portable variant: -DES_NO_NEON' },
      neon_vs_portable: { value: 0.5, how: 'NEON / portable' },
      host_ms: { value: 3.2, how: 'the int8 image: median of 23 calls' },
      onnxruntime_ms: { value: 4, how: 'onnxruntime on its quantize_static QDQ model' },
      host_vs_onnxruntime: { value: 0.8, how: 'host int8 ms / onnxruntime int8 ms' },
      linux_qemu_ms: { value: 900, how: 'the int8 linux executable under qemu-aarch64' },
      onnxruntime_arm64_ms: { value: 850, how: 'onnxruntime arm64 on the same quantize_static QDQ model' },
      linux_vs_onnxruntime_arm64: { value: 900 / 850, how: 'linux int8 ms / onnxruntime arm64 int8 ms' },
      runs: [],
      errors: []
    },
    { model: 'resnet18', agrees: false, runs: [], errors: ['qemu-virt run: mismatch: max abs error 1'] },
    { model: 'resnet18', dtype: 'int8', agrees: false, runs: [], errors: ['onnxruntime int8 peer: quantizing failed'] },
    { model: 'squeezenet1_1', agrees: true, host_vs_onnxruntime: { value: 1.5, how: 'host ms / onnxruntime ms' }, runs: [], errors: [] }
  ]
};

/** The lines of one section of the markdown (from its heading to the next). */
function section(md: string, heading: string): string[] {
  const lines = md.split('\n');
  const start = lines.indexOf(heading);
  expect(start).toBeGreaterThanOrEqual(0);
  const end = lines.findIndex((l, i) => i > start && l.startsWith('## '));
  return lines.slice(start, end < 0 ? undefined : end);
}

describe('benchMarkdown', () => {
  const md = benchMarkdown(report);

  it('writes one table row per model, with a dash for what was not measured', () => {
    const rows = section(md, '## Every model').filter(l => l.startsWith('| mobilenet_v2') || l.startsWith('| resnet18'));
    expect(rows).toHaveLength(4);
    expect(rows[0]).toMatch(/^\| mobilenet_v2 \| float32 \| yes \| 14,009,512 \|/);
    expect(rows[0]).toContain('| 5.50 | 4.40 |');
    expect(rows[0]).toContain('| 1.25x |');
    expect(rows[2]).toMatch(/^\| resnet18 \| float32 \| \*\*no\*\* \| – \|/);
  });

  it('labels each row with its dtype: a model measured in int8 gets its own row', () => {
    const table = section(md, '## Every model');
    const header = table.find(l => l.startsWith('| model'))!;
    expect(header).toMatch(/^\| model \| dtype \| agrees \| image bytes \|/);
    expect(header).toContain('| guest instructions | guest instructions, portable kernels | NEON / portable |');
    const separator = table[table.indexOf(header) + 1];
    expect(separator.split('|').length).toBe(header.split('|').length);
    const int8 = table.find(l => l.startsWith('| mobilenet_v2 | int8 |'))!;
    expect(int8.split('|').length).toBe(header.split('|').length);
    expect(int8).toContain('| yes | 3,512,000 |');
    expect(int8).toContain('| 123,456,789 | 246,913,578 | 0.50x |');
    expect(int8).toContain('| 3.20 | 4.00 | – | 0.80x | – | 900 | 850 | 1.06x |');
  });

  it('opens with the ratios issue 6 asks for: the named models in each dtype, host and qemu-aarch64, NEON against portable', () => {
    const summary = section(md, '## Against onnxruntime, and what the NEON kernels buy');
    expect(md.indexOf('## Against onnxruntime')).toBeLessThan(md.indexOf('## Every model'));
    expect(summary).toContain('| model | dtype | host / onnxruntime | linux / onnxruntime arm64 (qemu-aarch64) | guest instructions, portable kernels | guest instructions, NEON kernels | NEON / portable |');
    const rows = summary.filter(l => /^\| [a-z]/.test(l) && !l.startsWith('| model'));
    expect(rows).toEqual([
      '| mobilenet_v2 | float32 | 1.25x | 0.90x | – | – | – |',
      '| mobilenet_v2 | int8 | 0.80x | 1.06x | 246,913,578 | 123,456,789 | 0.50x |',
      '| resnet18 | float32 | – | – | – | – | – |',
      '| resnet18 | int8 | – | – | – | – | – |'
    ]);
    // squeezenet1_1's 1.50x is not a cell of the issue's table
    expect(summary.join('\n')).toContain('2 of 4 measured cells meet it');
  });

  it('says how every column was measured, once when the dtypes share it, once per dtype when not', () => {
    expect(md).toContain('- **image bytes**: st_size of image.elf');
    expect(md).not.toContain('- **image bytes** (');
    expect(md).toContain('- **host / onnxruntime** (float32): host ms / onnxruntime ms');
    expect(md).toContain('- **host / onnxruntime** (int8): host int8 ms / onnxruntime int8 ms');
    expect(md).toContain('- **onnxruntime ms** (int8): onnxruntime on its quantize_static QDQ model');
    expect(md).toContain('- **guest instructions** (float32): not measured');
    expect(md).toContain('- **guest instructions** (int8): QEMU icount');
    expect(md).toContain('- **PyTorch ms**: not measured');
    expect(md).toContain('- **agrees** (int8):');
    expect(md).toContain('- **guest instructions, portable kernels** (int8): the portable variant: -DES_NO_NEON');
    expect(md).toContain('- **linux / onnxruntime arm64** (int8): linux int8 ms / onnxruntime arm64 int8 ms');
    expect(md).toContain('int8 rows: both onnxruntime columns (native and arm64 under qemu-aarch64) are onnxruntime on its own statically quantized model');
  });

  it('lists the problems of each row by model and dtype', () => {
    expect(md).toContain('## Problems\n\n- resnet18 float32: qemu-virt run: mismatch: max abs error 1\n- resnet18 int8: onnxruntime int8 peer: quantizing failed');
  });

  it('reads older bench.json files without dtypes as float32 only', () => {
    const old = benchMarkdown({ ...report, models: [report.models[0]] });
    expect(old).toContain('| mobilenet_v2 | float32 | yes |');
    expect(old).toContain('- **host / onnxruntime**: host ms / onnxruntime ms');
    expect(old).not.toContain('(int8)');
    expect(old).not.toContain('int8 rows:');
  });
});

describe('benchPlan', () => {
  it('by default measures float32 for every model and int8 too for MobileNetV2 and ResNet18', () => {
    expect(benchPlan(['mobilenet_v2', 'squeezenet1_1', 'resnet18'])).toEqual([
      { model: 'mobilenet_v2', dtype: 'float32', portable: true },
      { model: 'mobilenet_v2', dtype: 'int8', portable: true },
      { model: 'squeezenet1_1', dtype: 'float32', portable: false },
      { model: 'resnet18', dtype: 'float32', portable: true },
      { model: 'resnet18', dtype: 'int8', portable: true }
    ]);
    expect(describeDtypes()).toBe('float32 for every model; int8 also for mobilenet_v2, resnet18');
  });

  it('with --dtypes measures every model in each dtype given, float32 before int8', () => {
    expect(benchPlan(['squeezenet1_1', 'mobilenet_v2'], ['int8'])).toEqual([
      { model: 'squeezenet1_1', dtype: 'int8', portable: false },
      { model: 'mobilenet_v2', dtype: 'int8', portable: true }
    ]);
    expect(benchPlan(['resnet18'], ['int8', 'float32']).map(e => e.dtype)).toEqual(['float32', 'int8']);
    expect(describeDtypes(['float32', 'int8'])).toBe('float32,int8');
  });

  it('measures the portable kernels for the models it is given: by default the two the issue names, none with --no-portable', () => {
    expect(benchPlan(['mobilenet_v2', 'squeezenet1_1'], ['float32'], ['squeezenet1_1']).map(e => e.portable)).toEqual([false, true]);
    expect(benchPlan(['mobilenet_v2', 'resnet18'], undefined, []).every(e => !e.portable)).toBe(true);
  });
});

describe('median', () => {
  it('takes the middle value, or the mean of the two middle ones', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(() => median([])).toThrow();
  });
});

describe('portableHow', () => {
  it('says what the portable variant leaves out and keeps, with the flags the qemu-virt platform compiles with', () => {
    const how = portableHow();
    expect(how).toContain('--kernel-variant portable');
    expect(how).toContain('-DES_NO_NEON');
    expect(how).toMatch(/auto-vectorize at -mcpu=cortex-a72 -O3 -ffp-contract=fast/);
  });
});
