// Small hand-made models built for the host, run, and compared with a float64 TS reference
// of the original graph: checks passes, layout conversion, kernel arguments, the arena plan
// and the weights blob together, with the real compiler and the real kernels.
import { promises as fs } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { buildBundle } from '../../../src/toolchain/build/buildBundle';
import { graphToIr } from '../../../src/toolchain/build/graphToIr';
import { BuiltGraph, GraphBuilder, rng, writeBundle } from './helpers/graphBuilder';
import { relativeError, runHostImage } from './helpers/hostRun';
import { interpret } from './helpers/interpret';
import { SMALL_GRAPHS } from './helpers/smallGraphs';

let workDir: string;

beforeAll(async () => {
  workDir = await fs.mkdtemp(path.join(tmpdir(), 'edgespec-host-build-'));
});

afterAll(async () => {
  await fs.rm(workDir, { recursive: true, force: true });
});

/** Random inputs and the reference outputs of the original graph. */
function referenceFor(built: BuiltGraph, seed: number): { inputs: Float32Array[]; outputs: Float32Array[] } {
  const ir = graphToIr(built.graph, built.lookup, 'host');
  const r = rng(seed);
  const inputs = built.graph.inputs.map(io => Float32Array.from({ length: io.shape.reduce((a, b) => a * b, 1) }, () => r() * 2));
  const values = interpret(ir, new Map(built.graph.inputs.map((io, i) => [io.tensor, { shape: io.shape, data: Float64Array.from(inputs[i]) }])));
  const outputs = built.graph.outputs.map(io => Float32Array.from(values.get(io.name)!.data));
  return { inputs, outputs };
}

async function buildAndRun(name: string, built: BuiltGraph): Promise<{ actual: Float32Array[]; expected: Float32Array[] }> {
  const bundle = path.join(workDir, name);
  const { inputs, outputs } = referenceFor(built, 7);
  await writeBundle(bundle, built, inputs, outputs);
  const result = await buildBundle({ bundleDir: bundle, target: 'host' });
  return { actual: await runHostImage(result.dir, inputs), expected: outputs };
}

describe('host builds of small models agree with the reference interpreter', () => {
  for (const [name, make] of Object.entries(SMALL_GRAPHS)) {
    test(name, async () => {
      const { actual, expected } = await buildAndRun(name, make());
      expect(actual).toHaveLength(expected.length);
      actual.forEach((a, i) => {
        expect(a.length).toBe(expected[i].length);
        expect(relativeError(a, expected[i])).toBeLessThan(1e-4);
      });
    });
  }

  test('a model whose output is a view of its input is copied, not aliased', async () => {
    const b = new GraphBuilder('view_only');
    const x = b.input('x', [2, 6]);
    b.output(b.node('reshape', [x], [3, 4], { shape: [3, 4] }));
    const { actual, expected } = await buildAndRun('view_only', b.build());
    expect(Array.from(actual[0])).toEqual(Array.from(expected[0]));
  });

  test('leaky_relu after a convolution (NHWC, in place) and on a flat tensor with the default slope', async () => {
    const b = new GraphBuilder('leaky_relu');
    const x = b.input('x', [1, 3, 5, 5]);
    let t = b.node('conv2d', [x, b.weight('w', [4, 3, 3, 3], 'conv')], [1, 4, 5, 5], { stride: [1, 1], padding: [1, 1, 1, 1], groups: 1 }, 'conv');
    t = b.node('leaky_relu', [t], [1, 4, 5, 5], { negative_slope: 0.2 }, 'act', ['aten.leaky_relu.default']);
    t = b.node('reshape', [t], [1, 100], { shape: [1, 100] }, 'flatten');
    t = b.node('add', [t], [1, 100], { scalar: -1.5 }, 'shift');
    t = b.node('leaky_relu', [t], [1, 100], {}, 'act2');
    b.output(t, 'y');
    const { actual, expected } = await buildAndRun('leaky_relu', b.build());
    // both branches are taken
    expect(expected[0].some(v => v < 0)).toBe(true);
    expect(expected[0].some(v => v > 0)).toBe(true);
    expect(relativeError(actual[0], expected[0])).toBeLessThan(1e-5);
  });

  test('quantize_dynamic: each scheme, per batch item after a convolution (NHWC) and over the whole tensor', async () => {
    const b = new GraphBuilder('quantize_dynamic');
    const x = b.input('x', [2, 3, 5, 5]);
    let t = b.node('conv2d', [x, b.weight('w', [4, 3, 3, 3], 'conv')], [2, 4, 5, 5], { stride: [1, 1], padding: [1, 1, 1, 1], groups: 1 }, 'conv');
    t = b.node('quantize_dynamic', [t], [2, 4, 5, 5], { scheme: 'int8_asymmetric', axis: 1 }, 'round_conv', ['tflite.CONV_2D']);
    t = b.node('reshape', [t], [2, 100], { shape: [2, 100] }, 'flatten');
    t = b.node('add', [t], [2, 100], { scalar: -1.5 }, 'shift');
    b.output(b.node('quantize_dynamic', [t], [2, 100], { scheme: 'int8_symmetric', axis: 1 }, 'round_rows'), 'rows');
    b.output(b.node('quantize_dynamic', [t], [2, 100], { scheme: 'uint8_asymmetric' }, 'round_all'), 'all');
    const { actual, expected } = await buildAndRun('quantize_dynamic', b.build());
    // every value is on a grid of at most 256 steps per row
    expect(new Set(expected[1].slice(0, 100)).size).toBeLessThanOrEqual(255);
    actual.forEach((a, i) => expect(relativeError(a, expected[i])).toBeLessThan(1e-5));
  });

  test('prelu per channel and with one slope, elu, selu, softplus, mish and softsign (NHWC and flat)', async () => {
    const b = new GraphBuilder('activations');
    const x = b.input('x', [1, 3, 5, 5]);
    let t = b.node('conv2d', [x, b.weight('w', [4, 3, 3, 3], 'conv')], [1, 4, 5, 5], { stride: [1, 1], padding: [1, 1, 1, 1], groups: 1 }, 'conv');
    t = b.node('add', [t], [1, 4, 5, 5], { scalar: -0.5 }, 'shift');
    t = b.node('prelu', [t, b.weight('slope', [4, 1, 1], 'act', i => 0.1 * (i + 1))], [1, 4, 5, 5], {}, 'act');
    t = b.node('elu', [t], [1, 4, 5, 5], { alpha: 0.5 }, 'elu');
    t = b.node('selu', [t], [1, 4, 5, 5], {}, 'selu');
    t = b.node('softplus', [t], [1, 4, 5, 5], { beta: 2, threshold: 1 }, 'softplus');
    t = b.node('add', [t], [1, 4, 5, 5], { scalar: -1 }, 'shift2');
    t = b.node('mish', [t], [1, 4, 5, 5], {}, 'mish');
    t = b.node('softsign', [t], [1, 4, 5, 5], {}, 'softsign');
    t = b.node('reshape', [t], [1, 100], { shape: [1, 100] }, 'flatten');
    t = b.node('add', [t], [1, 100], { scalar: -0.1 }, 'shift3');
    t = b.node('prelu', [t, b.weight('one_slope', [1], 'head', () => 0.25)], [1, 100], {}, 'head');
    b.output(t, 'y');
    const { actual, expected } = await buildAndRun('activations', b.build());
    expect(expected[0].some(v => v < 0)).toBe(true);
    expect(expected[0].some(v => v > 0)).toBe(true);
    expect(relativeError(actual[0], expected[0])).toBeLessThan(1e-5);
  });

  test('exp, log, sqrt, rsqrt, pow, abs, neg, maximum and minimum with broadcasting, and log_softmax over channels', async () => {
    const b = new GraphBuilder('math');
    const x = b.input('x', [1, 3, 4, 4]);
    const conv = b.node('conv2d', [x, b.weight('w', [5, 3, 3, 3], 'conv')], [1, 5, 4, 4], { stride: [1, 1], padding: [1, 1, 1, 1], groups: 1 }, 'conv');
    let t = b.node('abs', [conv], [1, 5, 4, 4], {}, 'abs');
    t = b.node('add', [t], [1, 5, 4, 4], { scalar: 0.5 }, 'shift');
    t = b.node('sqrt', [t], [1, 5, 4, 4], {}, 'sqrt');
    t = b.node('log', [t], [1, 5, 4, 4], {}, 'log');
    t = b.node('exp', [t], [1, 5, 4, 4], {}, 'exp');
    t = b.node('rsqrt', [t], [1, 5, 4, 4], {}, 'rsqrt');
    t = b.node('pow', [t], [1, 5, 4, 4], { exponent: 3 }, 'cube');
    const other = b.node('neg', [conv], [1, 5, 4, 4], {}, 'neg');
    t = b.node('maximum', [t, other], [1, 5, 4, 4], {}, 'max');
    t = b.node('minimum', [t, b.weight('cap', [5, 1, 1], 'min', i => 0.3 + 0.2 * i)], [1, 5, 4, 4], {}, 'min');
    t = b.node('log_softmax', [t], [1, 5, 4, 4], { axis: 1 }, 'log_softmax');
    b.output(t, 'y');
    const { actual, expected } = await buildAndRun('math', b.build());
    expect(relativeError(actual[0], expected[0])).toBeLessThan(1e-5);
  });

  test('a 4-D output read by later steps stays in NCHW for the caller', async () => {
    const b = new GraphBuilder('two_outputs');
    const x = b.input('x', [1, 3, 4, 5]);
    const c = b.node('conv2d', [x, b.weight('w', [4, 3, 3, 3], 'conv')], [1, 4, 4, 5], { stride: [1, 1], padding: [1, 1, 1, 1], groups: 1 }, 'conv');
    const p = b.node('mean', [c], [1, 4], { axes: [2, 3], keepdim: false }, 'pool');
    b.output(c, 'features');
    b.output(p, 'pooled');
    const { actual, expected } = await buildAndRun('two_outputs', b.build());
    expect(relativeError(actual[0], expected[0])).toBeLessThan(1e-5);
    expect(relativeError(actual[1], expected[1])).toBeLessThan(1e-5);
  });
});
