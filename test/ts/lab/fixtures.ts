/** Hand-made reports in the shapes of src/common/types.ts, small enough to check by eye. */
import type { Footprint, FootprintNode, RunReport } from '../../../src/common/types';
import type { TraceReport } from '../../../src/lab/model/traceTable';

const leaf = (name: string, bytes: number, kind: FootprintNode['kind'], source: string): FootprintNode => ({
  name,
  bytes,
  kind,
  source
});

/** flash = 10 000 B: weights 6 000, kernels 2 500, platform 900, libc 400, elf 200. */
export function sampleFootprint(overrides: Partial<Footprint> = {}): Footprint {
  const flash: FootprintNode = {
    name: 'flash',
    bytes: 10000,
    children: [
      {
        name: 'weights',
        bytes: 6000,
        children: [
          leaf('features.0.conv.weight', 3500, 'weights', 'layer:features.0'),
          leaf('features.1.conv.weight', 2000, 'weights', 'layer:features.1'),
          leaf('classifier.weight', 500, 'weights', 'layer:classifier')
        ]
      },
      {
        name: 'kernels',
        bytes: 2500,
        children: [
          {
            name: 'conv2d.c',
            bytes: 1500,
            children: [
              leaf('.text.es_conv2d_f32', 1300, 'code', 'kernel:conv2d.c'),
              leaf('.rodata', 200, 'rodata', 'kernel:conv2d.c')
            ]
          },
          leaf('gemm.c', 1000, 'code', 'kernel:gemm.c')
        ]
      },
      leaf('platform', 900, 'code', 'platform'),
      // declares 400 but lists 300: 100 bytes unattributed
      { name: 'libc', bytes: 400, children: [leaf('memcpy', 300, 'code', 'libc')] },
      leaf('ELF headers', 200, 'rodata', 'elf')
    ]
  };
  const ram: FootprintNode = {
    name: 'ram',
    bytes: 5000,
    children: [leaf('arena', 4000, 'arena', 'model'), leaf('stack', 800, 'stack', 'platform'), leaf('.bss', 200, 'bss', 'platform')]
  };
  return {
    format: 'edgespec.footprint',
    version: 1,
    model: 'tiny_cnn',
    target: 'qemu-virt',
    dtype: 'float32',
    image: { file: 'image.elf', bytes: 10000, sha256: 'a'.repeat(64) },
    tree: { name: 'image', bytes: 15000, children: [flash, ram] },
    totals: {
      image_bytes: { value: 10000, how: 'st_size of image.elf' },
      weights_bytes: { value: 6000, how: 'size of the weights section' },
      overhead_bytes: { value: 4000, how: 'image − weights' },
      flash_bytes: { value: 10000, how: 'sum of loadable sections' },
      peak_ram_bytes: { value: 5000, how: 'arena + stack + bss' }
    },
    arena: { bytes: 4000, lower_bound: 3900, how: 'planner' },
    kernels: [
      { name: 'conv2d', ops: ['conv2d'], bytes: 1500 },
      { name: 'gemm', ops: ['conv2d', 'linear'], bytes: 1000 }
    ],
    reference_stack: [
      { name: 'PyTorch wheel', bytes: 800 * 1024 * 1024, how: 'du -sb site-packages/torch' },
      { name: 'Python 3.13', bytes: 60 * 1024 * 1024, how: 'du -sb of the interpreter and stdlib' }
    ],
    ...overrides
  };
}

export function sampleTrace(): TraceReport {
  return {
    format: 'edgespec.trace',
    version: 1,
    models: [
      {
        name: 'tiny_cnn',
        bundle: 'edgespec-bundles/tiny_cnn',
        inputs: [{ shape: [1, 3, 32, 32], dtype: 'float32' }],
        outputs: [{ shape: [1, 10], dtype: 'float32' }],
        parameter_bytes: 6000,
        nodes: 5,
        ops: [
          { framework_op: 'aten.relu.default', count: 2, edgespec_op: 'relu', supported: true },
          { framework_op: 'aten.convolution.default', count: 2, edgespec_op: 'conv2d', supported: true },
          { framework_op: 'aten.addmm.default', count: 1, edgespec_op: 'linear', supported: true },
          { framework_op: 'aten.sort.default', count: 1, edgespec_op: null, supported: false }
        ]
      }
    ],
    unsupported: [{ framework_op: 'aten.sort.default', module: 'head', source: 'cell:7' }]
  };
}

export function sampleRun(overrides: Partial<RunReport> = {}): RunReport {
  return {
    format: 'edgespec.run',
    version: 1,
    model: 'tiny_cnn',
    target: 'qemu-virt',
    status: 'ok',
    exit_code: 0,
    outputs: [{ name: 'logits', shape: [1, 10], dtype: 'float32', file: 'output.bin', first: [0.5, -1.25, 3, 0.000012, 2, 1, 0, 7] }],
    agreement: {
      max_abs_error: 2.4e-7,
      max_rel_error: 1.1e-6,
      max_abs_reference: 3.1,
      tolerance: 3.1e-4,
      within_tolerance: true,
      top1_match: true,
      top5_match: true,
      top5: [7, 2, 4, 5, 0],
      reference_top5: [7, 2, 4, 5, 0]
    },
    guest_instructions: { value: 1234567, how: 'QEMU -icount' },
    wall_ms: { value: 412.5, how: 'process.hrtime from QEMU start to result' },
    console: 'edgespec: booting\nedgespec: done\n',
    input: 'reference',
    ...overrides
  };
}
