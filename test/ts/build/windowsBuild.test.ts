// Issue 13 windows and resampling built for the host from graph.json, run, and compared with the
// float64 IR interpreter (helpers/interpret.ts): conv_transpose2d, resize in every coordinate
// mode and reflect/edge/symmetric padding, after a convolution so they run on NHWC memory.
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
  workDir = await fs.mkdtemp(path.join(tmpdir(), 'edgespec-windows-build-'));
});

afterAll(async () => {
  await fs.rm(workDir, { recursive: true, force: true });
});

async function buildAndRun(name: string, built: BuiltGraph): Promise<{ actual: Float32Array[]; expected: Float32Array[]; modelC: string }> {
  const ir = graphToIr(built.graph, built.lookup, 'host');
  const r = rng(11);
  const inputs = built.graph.inputs.map(io => Float32Array.from({ length: io.shape.reduce((a, b) => a * b, 1) }, () => r() * 2 - 1));
  const values = interpret(ir, new Map(built.graph.inputs.map((io, i) => [io.tensor, { shape: io.shape, data: Float64Array.from(inputs[i]) }])));
  const outputs = built.graph.outputs.map(io => Float32Array.from(values.get(io.name)!.data));
  const bundle = path.join(workDir, name);
  await writeBundle(bundle, built, inputs, outputs);
  const result = await buildBundle({ bundleDir: bundle, target: 'host' });
  const modelC = await fs.readFile(path.join(result.dir, 'model.c'), 'utf8');
  return { actual: await runHostImage(result.dir, inputs), expected: outputs, modelC };
}

describe('host builds of issue 13 windows and resampling', () => {
  test('conv_transpose2d (stride, crop, output_padding, groups, dilation), resize modes, mirror padding', async () => {
    const b = new GraphBuilder('windows');
    const x = b.input('x', [1, 3, 4, 5]);
    const c = b.node('conv2d', [x, b.weight('w', [4, 3, 3, 3], 'conv')], [1, 4, 4, 5], { stride: [1, 1], padding: [1, 1, 1, 1], groups: 1 }, 'conv');
    const up = b.node('conv_transpose2d', [c, b.weight('up.w', [4, 3, 3, 3], 'up'), b.weight('up.b', [6], 'up')], [1, 6, 8, 10],
      { stride: [2, 2], padding: [1, 1, 1, 1], output_padding: [1, 1], groups: 2 }, 'up');
    b.output(b.node('conv_transpose2d', [up, b.weight('dil.w', [6, 2, 3, 2], 'dil')], [1, 2, 11, 10],
      { stride: [1, 1], padding: [0, 1, 1, 0], dilation: [2, 1], weight_layout: 'IOHW' }, 'dil'), 'dil');
    b.output(b.node('resize', [c], [1, 4, 8, 10], { size: [8, 10], mode: 'nearest', coordinate_transformation: 'asymmetric', nearest_mode: 'floor', scale: [2, 2] }, 'nearest'), 'nearest');
    b.output(b.node('resize', [c], [1, 4, 7, 3], { size: [7, 3], mode: 'bilinear', coordinate_transformation: 'half_pixel' }, 'bilinear'), 'bilinear');
    b.output(b.node('resize', [c], [1, 4, 9, 1], { size: [9, 1], mode: 'bilinear', coordinate_transformation: 'pytorch_half_pixel' }, 'one_wide'), 'one_wide');
    b.output(b.node('resize', [c], [1, 4, 6, 9], { size: [6, 9], mode: 'nearest', coordinate_transformation: 'align_corners', nearest_mode: 'round_prefer_ceil' }, 'corners'), 'corners');
    b.output(b.node('pad', [c], [1, 4, 7, 8], { pads: [[0, 0], [0, 0], [2, 1], [1, 2]], value: 0, mode: 'reflect' }, 'reflect'), 'reflect');
    b.output(b.node('pad', [c], [1, 6, 5, 5], { pads: [[0, 0], [1, 1], [0, 1], [0, 0]], value: 0, mode: 'edge' }, 'edge'), 'edge');
    b.output(b.node('pad', [c], [1, 4, 8, 7], { pads: [[0, 0], [0, 0], [4, 0], [1, 1]], value: 0, mode: 'symmetric' }, 'symmetric'), 'symmetric');
    const { actual, expected, modelC } = await buildAndRun('windows', b.build());
    for (const fn of ['es_conv_transpose2d_f32(', 'es_resize_nearest_f32(', 'es_resize_bilinear_f32(', 'es_pad_mirror_f32(']) expect(modelC).toContain(fn);
    expected.forEach((want, i) => expect(relativeError(actual[i], want)).toBeLessThan(1e-5));
  });
});
