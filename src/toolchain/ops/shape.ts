// Ops that move bytes without arithmetic: reshape (a view, or a copy), transpose, concat,
// split and pad.

import { PAD_MODES, selectMirrorPad } from './padMirror';
import { ConcatNode, Pair, PadNode, ReshapeNode, SplitNode, TransposeNode } from '../build/ir';
import { AliasStep, ConcatStep, CopyStep, PadStep, SplitStep, TransposeStep } from '../build/schedule';
import { fixedMultiplier } from '../build/quantize/params';
import { inversePerm, isIdentityPerm, numel } from '../build/shape';
import { floatLiteral, ints } from './cText';
import { originalOrderToNHWC } from './common';
import { copiesAsCodes, lowerCodeCopy, rowMajorStrides } from './codeCopyInt8';
import { Int8Context, KernelModule, NotSupported, OpModule, OpRule } from './opModule';

const MAX_TRANSPOSE_RANK = 6;

const reshape: OpRule<ReshapeNode> = {
  kernels: ['alias', 'copy'],
  toIr: (_node, a, base) => ({ ...base, op: 'reshape', attrs: { shape: a.ints('shape') } }),
  toNHWC: originalOrderToNHWC,
  select(node, s) {
    const [x] = node.inputs;
    const [y] = node.outputs;
    if (numel(s.tensor(x).shape) !== numel(s.tensor(y).shape)) {
      s.expect(node, 'output', s.tensor(y).shape, node.attrs.shape);
    }
    if (s.isWeight(x)) {
      s.aliasWeight(y, x);
      return;
    }
    const yHome = s.homeOf(y);
    // A graph output has the platform's buffer. The reshaped tensor can be computed
    // right into it when this reshape is its only reader; otherwise copy.
    const xHome = s.homeOf(x) ?? 'arena';
    if (yHome === 'output' && (xHome !== 'arena' || s.readerCount(x) !== 1)) {
      return s.push({ kernel: 'copy', reads: [s.act(x)], writes: [s.act(y)], inPlace: [], args: { x, y, count: numel(s.tensor(x).shape) } }, node);
    }
    s.push({ kernel: 'alias', reads: [s.act(x)], writes: [s.act(y)], inPlace: [], args: { x, y } }, node);
  }
};

const transpose: OpRule<TransposeNode> = {
  kernels: ['transpose'],
  toIr: (_node, a, base) => ({ ...base, op: 'transpose', attrs: { perm: a.ints('perm') } }),
  /** Transposes compose with the layouts into one memory permutation. */
  toNHWC(node, r) {
    const x = node.inputs[0];
    const y = node.outputs[0];
    const xOrder = r.memoryOrder(x, r.tensor(x).layout);
    if (r.is4d(y)) r.produce(y, 'NHWC');
    const yOrder = r.memoryOrder(y, r.tensor(y).layout);
    const xMemoryAxis = inversePerm(xOrder);
    const perm = yOrder.map(d => xMemoryAxis[node.attrs.perm[d]]);
    node.attrs = { perm };
    if (isIdentityPerm(perm)) {
      Object.assign(node, { op: 'reshape', attrs: { shape: [...r.tensor(y).shape] } });
    }
  },
  select(node, s) {
    const [x] = node.inputs;
    const [y] = node.outputs;
    const inShape = s.tensor(x).shape;
    if (inShape.length > MAX_TRANSPOSE_RANK) throw new NotSupported(`transpose of a ${inShape.length}-D tensor (the kernel handles up to ${MAX_TRANSPOSE_RANK})`);
    s.expect(node, 'output', s.tensor(y).shape, node.attrs.perm.map(p => inShape[p]));
    s.push({ kernel: 'transpose', reads: [s.act(x)], writes: [s.act(y)], inPlace: [], args: { x, inShape, perm: node.attrs.perm, y } }, node);
  }
};

const concat: OpRule<ConcatNode> = {
  kernels: ['concat'],
  toIr: (_node, a, base) => ({ ...base, op: 'concat', attrs: { axis: a.int('axis') } }),
  toNHWC(node, r) {
    const y = node.outputs[0];
    if (!r.is4d(y)) return;
    const layout = r.agnosticLayout(node.inputs);
    const axis = r.memoryAxis(node.inputs[0], node.attrs.axis, layout);
    node.inputs = node.inputs.map(t => r.want(t, layout, node.module));
    node.attrs = { axis };
    r.produce(y, layout);
  },
  select(node, s) {
    const y = node.outputs[0];
    const shape = s.tensor(y).shape;
    const a = node.attrs.axis;
    // a constant piece (ViT's class token) is copied from the weights like any other input
    const xs = node.inputs.map(t => s.operand(t));
    s.push({
      kernel: 'concat', reads: xs, writes: [s.act(y)], inPlace: [],
      args: { xs, sizes: node.inputs.map(t => s.tensor(t).shape[a]), y, outer: numel(shape.slice(0, a)), inner: numel(shape.slice(a + 1)) }
    }, node);
  }
};

const split: OpRule<SplitNode> = {
  kernels: ['split'],
  toIr: (_node, a, base) => ({ ...base, op: 'split', attrs: { axis: a.int('axis'), sizes: a.ints('sizes') } }),
  toNHWC(node, r) {
    const x = node.inputs[0];
    if (!r.is4d(x)) return;
    const layout = r.agnosticLayout([x]);
    node.inputs[0] = r.want(x, layout, node.module);
    node.attrs = { ...node.attrs, axis: r.memoryAxis(x, node.attrs.axis, layout) };
    for (const y of node.outputs) r.produce(y, layout);
  },
  select(node, s) {
    const [x] = node.inputs;
    const shape = s.tensor(x).shape;
    const a = node.attrs.axis;
    const ys = node.outputs.map(t => s.act(t));
    s.push({
      kernel: 'split', reads: [s.act(x)], writes: ys, inPlace: [],
      args: { x, ys, sizes: node.outputs.map(t => s.tensor(t).shape[a]), outer: numel(shape.slice(0, a)), inner: numel(shape.slice(a + 1)) }
    }, node);
  }
};

const pad: OpRule<PadNode> = {
  kernels: ['pad', 'pad_mirror'],
  toIr: (_node, a, base) => ({
    ...base, op: 'pad',
    attrs: { pads: a.pairs('pads'), value: a.number('value', 0), mode: a.oneOf('mode', PAD_MODES, 'constant') }
  }),
  toNHWC(node, r) {
    const x = node.inputs[0];
    if (!r.is4d(x)) return;
    const layout = r.agnosticLayout([x]);
    node.inputs[0] = r.want(x, layout, node.module);
    const order = r.memoryOrder(x, layout);
    node.attrs = { ...node.attrs, pads: order.map(d => [...node.attrs.pads[d]] as Pair) };
    r.produce(node.outputs[0], layout);
  },
  select(node, s) {
    const [x] = node.inputs;
    const [y] = node.outputs;
    const inShape = s.tensor(x).shape;
    if (inShape.length > MAX_TRANSPOSE_RANK) throw new NotSupported(`pad of a ${inShape.length}-D tensor (the kernel handles up to ${MAX_TRANSPOSE_RANK})`);
    if (node.attrs.pads.some(([b, e]) => b < 0 || e < 0)) throw new NotSupported('negative padding (cropping)');
    const pads = inShape.map((_, k) => node.attrs.pads[k] ?? [0, 0]).flat();
    if (node.attrs.mode !== 'constant') return selectMirrorPad(node, s, inShape, pads);
    s.push({ kernel: 'pad', reads: [s.act(x)], writes: [s.act(y)], inPlace: [], args: { x, inShape, pads, value: node.attrs.value, y } }, node);
  }
};

function transposeData(x: Float32Array, shape: number[], perm: number[]): Float32Array {
  const outShape = perm.map(p => shape[p]);
  const inStrides = shape.map((_, d) => shape.slice(d + 1).reduce((p, q) => p * q, 1));
  const y = new Float32Array(x.length);
  for (let i = 0; i < y.length; i++) {
    let rest = i;
    let off = 0;
    for (let d = outShape.length - 1; d >= 0; d--) {
      const pos = rest % outShape[d];
      rest = Math.floor(rest / outShape[d]);
      off += pos * inStrides[perm[d]];
    }
    y[i] = x[off];
  }
  return y;
}

/**
 * int8 transpose: the codes moved as they are, a strided copy (which es_strided_copy_s8 does as
 * 2-D transposes in blocks). Through float, ShuffleNetV2's 43 layout transposes each took a
 * dequantize and a quantize around the fp32 transpose: 250 us of its 2.6 ms on the host.
 */
function lowerTranspose(step: TransposeStep, q: Int8Context): void {
  const a = step.args;
  if (!copiesAsCodes(q, a.x, [a.y])) return q.fallback(step);
  const inStrides = rowMajorStrides(a.inShape);
  lowerCodeCopy(q, step.from, step.op, a.x, a.y, a.perm.map(p => a.inShape[p]), a.perm.map(p => inStrides[p]), 0);
}

const transposeKernel: KernelModule<TransposeStep> = {
  call: (step, p, fn) => {
    const a = step.args;
    return `${fn}(${p.read(a.x)}, ${ints(a.inShape)}, ${ints(a.perm)}, ${a.inShape.length}, ${p.write(a.y)})`;
  },
  int8: lowerTranspose,
  int8Functions: ['es_strided_copy_s8'],
  reference: (step, get) => { const a = step.args; return [transposeData(get(a.x), a.inShape, a.perm)]; }
};

/** int8 concat: each input requantized to the output's parameters (copied when they are the same). */
function lowerConcat(step: ConcatStep, q: Int8Context): void {
  const s = step.args;
  if (s.xs.some(t => q.fpWeights.has(t))) return q.fallback(step); // a constant piece stays fp32
  const xs = s.xs.map(t => q.as(t, 's8', step.from));
  const pout = q.rangeParams(s.y);
  const ps = xs.map(t => q.paramsOf(t));
  const ms = ps.map(p => (p.scale === pout.scale && p.zp === pout.zp ? { mult: 0, shift: 0 } : fixedMultiplier(p.scale / pout.scale)));
  q.outputS8(s.y, pout, y => q.push({
    kernel: 'concat_s8', from: step.from, op: step.op, reads: xs, writes: [y], inPlace: [],
    call: p => `es_concat_s8((const int8_t *const[]){${xs.map(t => p.read(t)).join(', ')}}, ${ints(s.sizes)}, ${xs.length},\n      ${p.write(y)}, ${s.outer}, ${s.inner}, ${ints(ps.map(v => v.zp))}, ${ints(ms.map(m => m.mult))}, ${ints(ms.map(m => m.shift))}, ${pout.zp})`
  }), step.from);
}

const concatKernel: KernelModule<ConcatStep> = {
  call: (step, p, fn) => {
    const a = step.args;
    return `${fn}((const float *const[]){${a.xs.map(x => p.read(x)).join(', ')}},\n      ${ints(a.sizes)}, ${a.xs.length}, ${p.write(a.y)}, ${a.outer}, ${a.inner})`;
  },
  int8: lowerConcat,
  reference(step, get) {
    const a = step.args;
    const total = a.sizes.reduce((p, q) => p + q, 0);
    const y = new Float32Array(a.outer * total * a.inner);
    let at = 0;
    for (let o = 0; o < a.outer; o++) a.xs.forEach((x, i) => {
      const span = a.sizes[i] * a.inner;
      y.set(get(x).subarray(o * span, (o + 1) * span), at);
      at += span;
    });
    return [y];
  }
};

/** int8 split: each output a strided copy of its run of the middle axis of [outer][axis][inner]. */
function lowerSplit(step: SplitStep, q: Int8Context): void {
  const a = step.args;
  if (!copiesAsCodes(q, a.x, a.ys)) return q.fallback(step);
  const total = a.sizes.reduce((p, v) => p + v, 0);
  let before = 0;
  a.ys.forEach((y, i) => {
    lowerCodeCopy(q, step.from, step.op, a.x, y, [a.outer, a.sizes[i] * a.inner], [total * a.inner, 1], before * a.inner);
    before += a.sizes[i];
  });
}

const splitKernel: KernelModule<SplitStep> = {
  call: (step, p, fn) => {
    const a = step.args;
    return `${fn}(${p.read(a.x)}, (float *const[]){${a.ys.map(y => p.write(y)).join(', ')}},\n      ${ints(a.sizes)}, ${a.ys.length}, ${a.outer}, ${a.inner})`;
  },
  int8: lowerSplit,
  int8Functions: ['es_strided_copy_s8'],
  reference(step, get) {
    const a = step.args;
    const x = get(a.x);
    const total = a.sizes.reduce((p, q) => p + q, 0);
    return a.sizes.map((size, i) => {
      const before = a.sizes.slice(0, i).reduce((p, q) => p + q, 0);
      const y = new Float32Array(a.outer * size * a.inner);
      for (let o = 0; o < a.outer; o++) y.set(x.subarray((o * total + before) * a.inner, (o * total + before + size) * a.inner), o * size * a.inner);
      return y;
    });
  }
};

const padKernel: KernelModule<PadStep> = {
  call: (step, p, fn) => {
    const a = step.args;
    return `${fn}(${p.read(a.x)}, ${ints(a.inShape)}, ${ints(a.pads)}, ${a.inShape.length}, ${floatLiteral(a.value)}, ${p.write(a.y)})`;
  },
  reference(step, get) {
    const a = step.args;
    const x = get(a.x);
    const outShape = a.inShape.map((d, k) => d + a.pads[2 * k] + a.pads[2 * k + 1]);
    const y = new Float32Array(outShape.reduce((p, q) => p * q, 1)).fill(a.value);
    for (let i = 0; i < x.length; i++) {
      let rest = i, off = 0, stride = 1;
      for (let d = a.inShape.length - 1; d >= 0; d--) {
        off += (rest % a.inShape[d] + a.pads[2 * d]) * stride;
        rest = Math.floor(rest / a.inShape[d]);
        stride *= outShape[d];
      }
      y[off] = x[i];
    }
    return [y];
  }
};

/** int8 copy (a slice that is a prefix, a reshape that copies): the codes as they are. */
function lowerCopy(step: CopyStep, q: Int8Context): void {
  const a = step.args;
  if (!copiesAsCodes(q, a.x, [a.y])) return q.fallback(step);
  lowerCodeCopy(q, step.from, step.op, a.x, a.y, [a.count], [1], 0);
}

const copyKernel: KernelModule<CopyStep> = {
  call: (step, p, fn) => {
    const a = step.args;
    return `${fn}(${p.read(a.x)}, ${p.write(a.y)}, ${a.count})`;
  },
  int8: lowerCopy,
  int8Functions: ['es_strided_copy_s8'],
  reference: (step, get) => [get(step.args.x)]
};

/** An int8 view stays a view of the int8 bytes; one into a graph output is dequantized there. */
function lowerAlias(step: AliasStep, q: Int8Context): void {
  const { x, y } = step.args;
  if (q.dtypeOf(x) !== 's8') return q.fallback(step);
  const p = q.paramsOf(x);
  if (q.fpHomeOf(y) !== 'arena') return q.dequantizeInto(x, y, step.from);
  q.hold(y, 's8', p);
  q.push({ ...step, reads: [x], writes: [y] });
}

const aliasKernel: KernelModule<AliasStep> = {
  call: () => undefined,
  int8: lowerAlias,
  reference: (step, get) => [get(step.args.x)]
};

export const shapeModule: OpModule = {
  ops: { reshape, transpose, concat, split, pad },
  kernels: { transpose: transposeKernel, concat: concatKernel, split: splitKernel, pad: padKernel, copy: copyKernel, alias: aliasKernel }
};
