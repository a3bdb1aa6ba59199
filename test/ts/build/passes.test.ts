import { EdgespecError } from '../../../src/toolchain/errors';
import { graphToIr } from '../../../src/toolchain/build/graphToIr';
import { IrGraph } from '../../../src/toolchain/build/ir';
import { runPasses } from '../../../src/toolchain/build/lowerModel';
import { dropNoOps } from '../../../src/toolchain/build/passes/dropNoOps';
import { foldBatchNorm } from '../../../src/toolchain/build/passes/foldBatchNorm';
import { fuseActivation } from '../../../src/toolchain/build/passes/fuseActivation';
import { composeViews } from '../../../src/toolchain/build/passes/foldViewChains';
import { toNHWC } from '../../../src/toolchain/build/passes/toNHWC';
import { selectKernels } from '../../../src/toolchain/build/selectKernel';
import { BuiltGraph, GraphBuilder, rng } from './helpers/graphBuilder';
import { interpret, Value } from './helpers/interpret';
import { SMALL_GRAPHS } from './helpers/smallGraphs';

function irOf(built: BuiltGraph): IrGraph {
  return graphToIr(built.graph, built.lookup, 'host');
}

function randomInputs(g: IrGraph, seed = 3): Map<string, Value> {
  const r = rng(seed);
  return new Map(g.inputs.map(io => {
    const t = g.tensors.get(io.tensor)!;
    const n = t.shape.reduce((a, b) => a * b, 1);
    return [io.tensor, { shape: t.shape, data: Float64Array.from({ length: n }, () => r() * 2) }];
  }));
}

function expectSameOutputs(before: IrGraph, after: IrGraph): void {
  const inputs = randomInputs(before);
  const expected = interpret(before, inputs);
  const actual = interpret(after, inputs);
  for (const [name, want] of expected) {
    const got = actual.get(name)!;
    expect(got.shape).toEqual(want.shape);
    let worst = 0;
    const scale = Math.max(1, ...want.data.map(Math.abs));
    want.data.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - got.data[i]))));
    expect(worst / scale).toBeLessThan(1e-5);
  }
}

const ops = (g: IrGraph) => g.nodes.map(n => n.op);

describe('each pass keeps the model computing the same thing', () => {
  for (const [name, make] of Object.entries(SMALL_GRAPHS)) {
    test(`${name}: all passes, then the NHWC graph`, () => {
      const before = irOf(make());
      expectSameOutputs(before, dropNoOps(before));
      expectSameOutputs(before, foldBatchNorm(before));
      expectSameOutputs(before, fuseActivation(foldBatchNorm(before)));
      expectSameOutputs(before, runPasses(before));
    });
  }
});

describe('foldBatchNorm', () => {
  test('folds into the producing conv and leaves no batch norm', () => {
    const g = foldBatchNorm(irOf(SMALL_GRAPHS.convBnRelu()));
    expect(ops(g)).not.toContain('batch_norm');
    expect(ops(g)).not.toContain('scale_shift');
    const conv = g.nodes.find(n => n.module === 'pw')!;
    expect(conv.inputs).toHaveLength(3);
    expect(conv.frameworkOps).toContain('aten._native_batch_norm_legit_no_training.default');
  });

  test('a batch norm whose input has another reader becomes scale_shift', () => {
    const b = new GraphBuilder('shared');
    const x = b.input('x', [1, 2, 3, 3]);
    const c = b.node('conv2d', [x, b.weight('w', [2, 2, 1, 1], 'conv')], [1, 2, 3, 3], { stride: [1, 1], padding: [0, 0, 0, 0], groups: 1 }, 'conv');
    const bn = b.node('batch_norm', [c, b.weight('g', [2], 'bn'), b.weight('beta', [2], 'bn'), b.weight('m', [2], 'bn'), b.weight('v', [2], 'bn', () => 2)], [1, 2, 3, 3], { eps: 1e-5 }, 'bn');
    b.output(b.node('add', [bn, c], [1, 2, 3, 3]));
    const before = irOf(b.build());
    const after = foldBatchNorm(before);
    expect(ops(after)).toEqual(['conv2d', 'scale_shift', 'add']);
    expectSameOutputs(before, after);
    expectSameOutputs(before, runPasses(before));
  });
});

describe('fuseActivation', () => {
  test('relu and relu6 move into conv, add and pooling', () => {
    const g = runPasses(irOf(SMALL_GRAPHS.convBnRelu()));
    expect(ops(g)).not.toContain('relu');
    expect(ops(g)).not.toContain('clamp');
    const dw = g.nodes.find(n => n.module === 'dw')!;
    expect(dw.op === 'conv2d' && dw.attrs.activation).toEqual({ min: 0, max: 6 });
    const residual = runPasses(irOf(SMALL_GRAPHS.residual()));
    const add = residual.nodes.find(n => n.op === 'add')!;
    expect(add.op === 'add' && add.attrs.activation).toEqual({ min: 0, max: Infinity });
  });

  test('an activation stays when its input has another reader', () => {
    const b = new GraphBuilder('two_readers');
    const x = b.input('x', [1, 2, 3, 3]);
    const c = b.node('conv2d', [x, b.weight('w', [2, 2, 1, 1], 'conv')], [1, 2, 3, 3], { stride: [1, 1], padding: [0, 0, 0, 0], groups: 1 }, 'conv');
    const r = b.node('relu', [c], [1, 2, 3, 3]);
    b.output(b.node('add', [r, c], [1, 2, 3, 3]));
    const g = fuseActivation(irOf(b.build()));
    expect(ops(g)).toEqual(['conv2d', 'relu', 'add']);
  });
});

describe('dropNoOps', () => {
  test('collapses reshape chains and drops identities', () => {
    const b = new GraphBuilder('views');
    const x = b.input('x', [1, 2, 3, 4]);
    let t = b.node('reshape', [x], [1, 24], { shape: [1, 24] });
    t = b.node('reshape', [t], [2, 12], { shape: [2, 12] });
    t = b.node('relu', [t], [2, 12]);
    t = b.node('transpose', [t], [2, 12], { perm: [0, 1] });
    t = b.node('reshape', [t], [2, 12], { shape: [2, 12] });
    t = b.node('mul', [t], [2, 12], { scalar: 1 });
    b.output(t);
    const before = irOf(b.build());
    const after = dropNoOps(before);
    expect(ops(after)).toEqual(['reshape', 'relu']);
    expect(after.nodes[0].inputs).toEqual(['x']);
    expectSameOutputs(before, after);
  });
});

describe('toNHWC', () => {
  test('convolutions read and write NHWC; the graph input and output keep NCHW', () => {
    const g = toNHWC(foldBatchNorm(irOf(SMALL_GRAPHS.channelShuffle())));
    for (const n of g.nodes.filter(n => n.op === 'conv2d')) {
      expect(g.tensors.get(n.inputs[0])!.layout).toBe('NHWC');
      expect(g.tensors.get(n.outputs[0])!.layout).toBe('NHWC');
    }
    expect(g.tensors.get(g.inputs[0].tensor)!.layout).toBe('NCHW');
    const out = g.tensors.get(g.outputs[0].tensor)!;
    expect(out.layout).toBe('NCHW');
    expect(out.shape).toEqual([1, 6, 5, 5]);
  });

  test('the channel shuffle gets explicit transposes to NCHW and back, split and concat use the channel axis of NHWC', () => {
    const g = toNHWC(fuseActivation(foldBatchNorm(dropNoOps(irOf(SMALL_GRAPHS.channelShuffle())))));
    const split = g.nodes.find(n => n.op === 'split')!;
    expect(split.op === 'split' && split.attrs.axis).toBe(3);
    const concat = g.nodes.find(n => n.op === 'concat')!;
    expect(concat.op === 'concat' && concat.attrs.axis).toBe(3);
    const transposes = g.nodes.filter(n => n.op === 'transpose');
    // input to NHWC, shuffle: to NCHW, the 5-D permute, back to NHWC, output to NCHW
    expect(transposes.map(t => (t.op === 'transpose' ? t.attrs.perm : []))).toEqual([
      [0, 2, 3, 1], [0, 3, 1, 2], [0, 2, 1, 3, 4], [0, 2, 3, 1], [0, 3, 1, 2]
    ]);
  });

  test('foldViewChains turns the three transposes of the shuffle into one over NHWC memory', () => {
    const g = runPasses(irOf(SMALL_GRAPHS.channelShuffle()));
    const transposes = g.nodes.filter(n => n.op === 'transpose');
    expect(transposes).toHaveLength(3);
    // [H*W, groups, channels per group] → [H*W, channels per group, groups]
    const shuffle = transposes[1];
    expect(shuffle.op === 'transpose' && shuffle.attrs.perm).toEqual([0, 2, 1]);
    expect(g.tensors.get(shuffle.inputs[0])!.shape).toEqual([25, 2, 4]);
    expect(shuffle.frameworkOps).toContain('aten.permute.default');
  });

  test('flatten of [N, C, 1, 1] and 1x1 spatial conversions cost nothing', () => {
    const g = runPasses(irOf(SMALL_GRAPHS.squeezeExcite()));
    const transposes = g.nodes.filter(n => n.op === 'transpose');
    // only the image input in and the padded output out
    expect(transposes).toHaveLength(2);
  });
});

describe('selectKernels', () => {
  test('chooses GEMM for pointwise and linear, depthwise for depthwise, the general conv otherwise', () => {
    const s = selectKernels(runPasses(irOf(SMALL_GRAPHS.convBnRelu())), 'host');
    expect(s.steps.map(step => `${step.from.module}:${step.kernel}`)).toEqual([
      'c1:transpose', 'c1:conv2d', 'pw:gemm', 'dw:conv2d_depthwise', 'pool:mean', 'fc:gemm'
    ]);
    const pointwise = s.weights.find(w => w.source === 'pw.weight:folded')!;
    expect(pointwise.shape).toEqual([6, 16]);
    const depthwise = s.weights.find(w => w.source === 'dw.weight:folded')!;
    expect(depthwise.shape).toEqual([3, 3, 16]);
    const general = s.weights.find(w => w.source === 'c1.weight:folded')!;
    expect(general.shape).toEqual([6, 3, 3, 3]);
  });

  test('packs weights into the layout each kernel reads', () => {
    const b = new GraphBuilder('pack');
    const x = b.input('x', [1, 2, 4, 4]);
    const w = b.weight('w', [3, 2, 2, 2], 'conv', i => i);
    b.output(b.node('conv2d', [x, w], [1, 3, 3, 3], { stride: [1, 1], padding: [0, 0, 0, 0], groups: 1 }, 'conv'));
    const s = selectKernels(runPasses(irOf(b.build())), 'host');
    const packed = s.weights[0];
    // OIHW [3][2][2][2] → [OC][KH][KW][IC]: element (o, kh, kw, i) = o*8 + i*4 + kh*2 + kw
    const at = (o: number, kh: number, kw: number, i: number) => packed.data[((o * 2 + kh) * 2 + kw) * 2 + i];
    expect(at(1, 0, 1, 1)).toBe(8 + 4 + 1);
    expect(at(2, 1, 0, 0)).toBe(16 + 2);
  });
});

describe('unsupported ops', () => {
  test('every unsupported op is listed at once, with counts and layers', () => {
    const b = new GraphBuilder('unsupported');
    const x = b.input('x', [1, 4]);
    let t = b.node('nonzero', [x], [1, 4], {}, 'block.0');
    t = b.node('relu', [t], [1, 4]);
    t = b.node('nonzero', [t], [1, 4], {}, 'block.1');
    t = b.node('cumsum', [t], [1, 4], {}, 'head');
    b.output(t);
    let error: unknown;
    try {
      irOf(b.build());
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(EdgespecError);
    const err = error as EdgespecError;
    expect(err.code).toBe('unsupported-ops');
    expect(err.message).toMatch(/2 ops/);
    expect(err.message).toMatch(/nonzero: 2 nodes.*block\.0.*block\.1/);
    expect(err.message).toMatch(/cumsum: 1 node.*head/);
    expect(err.hint).toBeTruthy();
  });

  test('ops a kernel cannot do with these attributes are collected too', () => {
    const b = new GraphBuilder('bad_attrs');
    const x = b.input('x', [2, 3, 4, 5], 'ANY');
    let t = b.node('mean', [x], [2, 4], { axes: [1, 3], keepdim: false }, 'm');
    t = b.node('pad', [t], [2, 2], { pads: [[0, 0], [-1, -1]], value: 0 }, 'crop');
    b.output(t);
    expect(() => selectKernels(runPasses(irOf(b.build())), 'host')).toThrow(/mean: 1 node[\s\S]*pad: 1 node/);
  });
});

describe('composeViews', () => {
  test('a transpose and its inverse are a plain view', () => {
    expect(composeViews([2, 3, 4], [{ kind: 'transpose', perm: [2, 0, 1] }, { kind: 'transpose', perm: [1, 2, 0] }])).toEqual({ atoms: [24], perm: [0] });
  });

  test('a reshape that splits a dim, a transpose, and a merge', () => {
    // [6, 5] → [2, 3, 5] → swap the first two → [3, 2, 5] → [30]
    const c = composeViews([6, 5], [{ kind: 'reshape', shape: [2, 3, 5] }, { kind: 'transpose', perm: [1, 0, 2] }, { kind: 'reshape', shape: [30] }]);
    expect(c).toEqual({ atoms: [2, 3, 5], perm: [1, 0, 2] });
  });

  test('a reshape that cuts across atoms unevenly cannot be composed', () => {
    // [2, 3] transposed is [3, 2]; viewing that as [2, 3] would split the dim of 3 in two
    expect(composeViews([2, 3], [{ kind: 'transpose', perm: [1, 0] }, { kind: 'reshape', shape: [2, 3] }])).toBeUndefined();
    // but [6, 4] as [3, 8] splits 6 evenly and merges the rest with 4
    expect(composeViews([4, 6], [{ kind: 'transpose', perm: [1, 0] }, { kind: 'reshape', shape: [3, 8] }])).toEqual({ atoms: [4, 6], perm: [1, 0] });
  });
});
