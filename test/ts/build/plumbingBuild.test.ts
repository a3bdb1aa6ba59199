// Issue 13 reductions, normalizations and tensor plumbing built for the host, run, and compared
// with the float64 IR interpreter (helpers/interpret.ts): after a convolution, so the layout
// pass moves their axes onto NHWC memory.
import { promises as fs } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { buildBundle } from '../../../src/toolchain/build/buildBundle';
import { graphToIr } from '../../../src/toolchain/build/graphToIr';
import { BuiltGraph, GraphBuilder, rng, writeBundle } from './helpers/graphBuilder';
import { relativeError, runHostImage } from './helpers/hostRun';
import { interpret } from './helpers/interpret';

let workDir: string;

beforeAll(async () => {
  workDir = await fs.mkdtemp(path.join(tmpdir(), 'edgespec-plumbing-build-'));
});

afterAll(async () => {
  await fs.rm(workDir, { recursive: true, force: true });
});

async function buildAndRun(name: string, built: BuiltGraph): Promise<{ actual: Float32Array[]; expected: Float32Array[]; modelC: string }> {
  const ir = graphToIr(built.graph, built.lookup, 'host');
  const r = rng(7);
  const inputs = built.graph.inputs.map(io => Float32Array.from({ length: io.shape.reduce((a, b) => a * b, 1) }, () => r() * 2 - 1));
  const values = interpret(ir, new Map(built.graph.inputs.map((io, i) => [io.tensor, { shape: io.shape, data: Float64Array.from(inputs[i]) }])));
  const outputs = built.graph.outputs.map(io => Float32Array.from(values.get(io.name)!.data));
  const bundle = path.join(workDir, name);
  await writeBundle(bundle, built, inputs, outputs);
  const result = await buildBundle({ bundleDir: bundle, target: 'host' });
  const modelC = await fs.readFile(path.join(result.dir, 'model.c'), 'utf8');
  return { actual: await runHostImage(result.dir, inputs), expected: outputs, modelC };
}

function conv(b: GraphBuilder, x: string, c: number, h: number, w: number): string {
  return b.node('conv2d', [x, b.weight('w', [c, 3, 3, 3], 'conv')], [1, c, h, w], { stride: [1, 1], padding: [1, 1, 1, 1], groups: 1 }, 'conv');
}

describe('host builds of issue 13 reductions', () => {
  test('sum, reduce_max, reduce_min over channels and space, keepdim or not, and argmax/argmin over channels', async () => {
    const b = new GraphBuilder('reductions');
    const x = b.input('x', [1, 3, 4, 5]);
    const c = conv(b, x, 6, 4, 5);
    b.output(b.node('sum', [c], [1, 6], { axes: [2, 3], keepdim: false }, 'sum_hw'), 'sum_hw');
    b.output(b.node('reduce_max', [c], [1, 1, 4, 5], { axes: [1], keepdim: true }, 'max_c'), 'max_c');
    b.output(b.node('reduce_min', [c], [1, 4, 5], { axes: [1], keepdim: false }, 'min_c'), 'min_c');
    b.output(b.node('sum', [c], [1, 6, 4, 1], { axes: [3], keepdim: true }, 'sum_w'), 'sum_w');
    b.output(b.node('argmax', [c], [1, 4, 5], { axis: 1, keepdim: false }, 'argmax_c'), 'argmax_c');
    b.output(b.node('argmin', [c], [1, 6, 1, 5], { axis: 2, keepdim: true, select_last_index: true }, 'argmin_h'), 'argmin_h');
    const { actual, expected, modelC } = await buildAndRun('reductions', b.build());
    for (const fn of ['es_sum_f32(', 'es_reduce_max_f32(', 'es_reduce_min_f32(', 'es_argmax_f32(', 'es_argmin_f32(']) expect(modelC).toContain(fn);
    expected.forEach((want, i) => expect(relativeError(actual[i], want)).toBeLessThan(1e-5));
  });
});

describe('host builds of issue 13 normalizations', () => {
  test('group_norm and instance norm over NHWC memory, layer_norm over channels, over C, H, W and over the last dim', async () => {
    const b = new GraphBuilder('norms');
    const x = b.input('x', [1, 3, 4, 5]);
    const c = conv(b, x, 6, 4, 5);
    const affine = (name: string, n: number) => [b.weight(`${name}.w`, [n], name, i => 0.5 + 0.1 * i), b.weight(`${name}.b`, [n], name, i => 0.05 * i - 0.1)];
    let t = b.node('group_norm', [c, ...affine('group', 6)], [1, 6, 4, 5], { groups: 3, eps: 1e-5 }, 'group');
    t = b.node('group_norm', [t], [1, 6, 4, 5], { groups: 6, eps: 1e-5 }, 'instance');
    const channels = b.node('transpose', [t], [1, 4, 5, 6], { perm: [0, 2, 3, 1] }, 'to_last');
    t = b.node('layer_norm', [channels, ...affine('channel_norm', 6)], [1, 4, 5, 6], { axis: 3, eps: 1e-5 }, 'channel_norm');
    t = b.node('transpose', [t], [1, 6, 4, 5], { perm: [0, 3, 1, 2] }, 'to_first');
    b.output(b.node('layer_norm', [t], [1, 6, 4, 5], { axis: 1, eps: 1e-3 }, 'whole'), 'whole');
    b.output(b.node('layer_norm', [t, b.weight('rows.w', [5], 'rows', i => 1 + 0.2 * i)], [1, 6, 4, 5], { axis: 3, eps: 1e-5 }, 'rows'), 'rows');
    const { actual, expected, modelC } = await buildAndRun('norms', b.build());
    for (const fn of ['es_group_norm_f32(', 'es_layer_norm_f32(']) expect(modelC).toContain(fn);
    expected.forEach((want, i) => expect(relativeError(actual[i], want)).toBeLessThan(1e-5));
  });
});

describe('host builds of issue 13 tensor plumbing', () => {
  test('slices (stepped, reversed, a select), expand, tile and gather, on NHWC memory and flat', async () => {
    const b = new GraphBuilder('plumbing');
    const x = b.input('x', [1, 3, 6, 5]);
    const c = conv(b, x, 4, 6, 5);
    b.output(b.node('slice', [c], [1, 2, 3, 5], { starts: [0, 1, 5, 0], sizes: [1, 2, 3, 5], steps: [1, 2, -2, 1] }, 'slice'), 'sliced');
    const row = b.node('slice', [c], [1, 4, 1, 5], { starts: [0, 0, 2, 0], sizes: [1, 4, 1, 5], steps: [1, 1, 1, 1] }, 'select');
    b.output(b.node('expand', [row], [1, 4, 3, 5], { shape: [1, 4, 3, 5] }, 'expand'), 'expanded');
    b.output(b.node('tile', [c], [1, 8, 6, 10], { repeats: [1, 2, 1, 2] }, 'tile'), 'tiled');
    b.output(b.node('gather', [c], [1, 3, 6, 5], { axis: 1, indices: [3, 0, -1] }, 'gather'), 'gathered');
    const flat = b.node('reshape', [c], [4, 30], { shape: [4, 30] }, 'flat');
    b.output(b.node('expand', [b.node('slice', [flat], [1, 30], { starts: [1, 0], sizes: [1, 30], steps: [1, 1] }, 'row1')], [2, 3, 30], { shape: [2, 3, 30] }, 'rank_up'), 'rank_up');
    const { actual, expected, modelC } = await buildAndRun('plumbing', b.build());
    for (const fn of ['es_strided_copy_f32(', 'es_gather_f32(']) expect(modelC).toContain(fn);
    expected.forEach((want, i) => expect(relativeError(actual[i], want)).toBeLessThan(1e-6));
  });
});
