// mean, sum, reduce_max/min, argmax/argmin, softmax and log_softmax: reductions over
// [outer][axis][inner] views.

import { ArgReduceNode, LogSoftmaxNode, MeanNode, ReduceNode, ReduceOp, SoftmaxNode } from '../build/ir';
import { ArgReduceStep, MeanStep, ReduceStep, SoftmaxStep } from '../build/schedule';
import { formatShape, numel } from '../build/shape';
import { FixedMultiplier, fixedMultiplier, QParams } from '../build/quantize/params';
import { floatLiteral } from './cText';
import { Int8Context, KernelModule, LayoutContext, NotSupported, OpModule, OpRule } from './opModule';

/** Reductions over axes: NHWC keeps the layout when keepdim or when the kept dims stay in order. */
function reduceToNHWC(node: MeanNode | ReduceNode, r: LayoutContext): void {
  const x = node.inputs[0];
  if (!r.is4d(x)) return;
  let layout = r.agnosticLayout([x]);
  if (!node.attrs.keepdim && !r.keepsOrder(x, node.attrs.axes, layout)) layout = r.originalLayout(x);
  node.inputs[0] = r.want(x, layout, node.module);
  node.attrs = { ...node.attrs, axes: node.attrs.axes.map(a => r.memoryAxis(x, a, layout)).sort((p, q) => p - q) };
  if (node.attrs.keepdim) r.produce(node.outputs[0], layout);
}

/** The [outer][reduce][inner] view of reducing `axes` of `shape`; undefined when every reduced axis has size 1. */
function reducedView(op: string, shape: number[], axes: number[]): { outer: number; reduce: number; inner: number } | undefined {
  const reduced = axes.filter(a => shape[a] !== 1);
  if (reduced.length === 0) return undefined;
  const first = Math.min(...reduced);
  const last = Math.max(...reduced);
  const between = shape.slice(first, last + 1).map((d, i) => ({ d, axis: first + i }));
  if (between.some(({ d, axis }) => d !== 1 && !reduced.includes(axis))) {
    throw new NotSupported(`${op} over axes ${JSON.stringify(axes)} of ${formatShape(shape)} is not over adjacent axes`);
  }
  return { outer: numel(shape.slice(0, first)), reduce: numel(shape.slice(first, last + 1)), inner: numel(shape.slice(last + 1)) };
}

const mean: OpRule<MeanNode> = {
  kernels: ['mean', 'copy'],
  toIr: (_node, a, base) => ({ ...base, op: 'mean', attrs: { axes: a.ints('axes'), keepdim: a.bool('keepdim', false) } }),
  toNHWC: reduceToNHWC,
  select(node, s) {
    const [x] = node.inputs;
    const [y] = node.outputs;
    const shape = s.tensor(x).shape;
    const view = reducedView('mean', shape, node.attrs.axes);
    if (!view) return s.push({ kernel: 'copy', reads: [s.act(x)], writes: [s.act(y)], inPlace: [], args: { x, y, count: numel(shape) } }, node);
    s.push({ kernel: 'mean', reads: [s.act(x)], writes: [s.act(y)], inPlace: [], args: { x, y, ...view } }, node);
  }
};

/** sum, reduce_max and reduce_min: one kernel each over the [outer][reduce][inner] view. */
function reduceOp(op: ReduceOp): OpRule<ReduceNode> {
  return {
    kernels: [op, 'copy'],
    toIr: (_node, a, base) => ({ ...base, op, attrs: { axes: a.ints('axes'), keepdim: a.bool('keepdim', false) } }),
    toNHWC: reduceToNHWC,
    select(node, s) {
      const [x] = node.inputs;
      const [y] = node.outputs;
      const shape = s.tensor(x).shape;
      const view = reducedView(op, shape, node.attrs.axes);
      if (!view) return s.push({ kernel: 'copy', reads: [s.act(x)], writes: [s.act(y)], inPlace: [], args: { x, y, count: numel(shape) } }, node);
      s.push({ kernel: op, reads: [s.act(x)], writes: [s.act(y)], inPlace: [], args: { x, y, ...view } }, node);
    }
  };
}

/** argmax and argmin along one axis; the index is written as a float32 number. */
function argReduceOp(op: 'argmax' | 'argmin'): OpRule<ArgReduceNode> {
  return {
    kernels: [op],
    toIr: (_node, a, base) => ({ ...base, op, attrs: { axis: a.int('axis'), keepdim: a.bool('keepdim', false), selectLastIndex: a.bool('select_last_index', false) } }),
    toNHWC(node, r) {
      const x = node.inputs[0];
      if (!r.is4d(x)) return;
      let layout = r.agnosticLayout([x]);
      if (!node.attrs.keepdim && !r.keepsOrder(x, [node.attrs.axis], layout)) layout = r.originalLayout(x);
      node.inputs[0] = r.want(x, layout, node.module);
      node.attrs = { ...node.attrs, axis: r.memoryAxis(x, node.attrs.axis, layout) };
      if (node.attrs.keepdim) r.produce(node.outputs[0], layout);
    },
    select(node, s) {
      const [x] = node.inputs;
      const [y] = node.outputs;
      const shape = s.tensor(x).shape;
      const a = node.attrs.axis;
      s.push({
        kernel: op, reads: [s.act(x)], writes: [s.act(y)], inPlace: [],
        args: { x, y, outer: numel(shape.slice(0, a)), reduce: shape[a], inner: numel(shape.slice(a + 1)), last: node.attrs.selectLastIndex }
      }, node);
    }
  };
}

/** softmax and log_softmax: along one axis, which the NHWC rewrite moves with the data. */
function softmaxLike(op: 'softmax' | 'log_softmax'): OpRule<SoftmaxNode | LogSoftmaxNode> {
  return {
    kernels: [op],
    toIr: (_node, a, base) => ({ ...base, op, attrs: { axis: a.int('axis') } }),
    toNHWC(node, r) {
      const x = node.inputs[0];
      if (!r.is4d(x)) return;
      const layout = r.agnosticLayout([x]);
      node.inputs[0] = r.want(x, layout, node.module);
      node.attrs = { axis: r.memoryAxis(x, node.attrs.axis, layout) };
      r.produce(node.outputs[0], layout);
    },
    select(node, s) {
      const [x] = node.inputs;
      const [y] = node.outputs;
      const shape = s.tensor(x).shape;
      const a = node.attrs.axis;
      s.push({
        kernel: op, reads: [s.act(x)], writes: [s.act(y)], inPlace: [],
        args: { x, y, outer: numel(shape.slice(0, a)), axis: shape[a], inner: numel(shape.slice(a + 1)) }
      }, node);
    }
  };
}

/**
 * TFLite's int8 MEAN: the multiplier of in_scale / out_scale, then 1/count folded in by
 * integer division after shifting left by floor(log2(count)) (at most 32, and at most 31 + shift).
 */
function tfliteMeanMultiplier(real: number, count: number): FixedMultiplier {
  const m = fixedMultiplier(real);
  const shift = Math.min(Math.floor(Math.log2(count)), 32, 31 + m.shift);
  return { mult: Number((BigInt(m.mult) << BigInt(shift)) / BigInt(count)), shift: m.shift - shift };
}

function lowerMean(step: MeanStep, q: Int8Context): void {
  const s = step.args;
  const x = q.as(s.x, 's8', step.from);
  const pin = q.paramsOf(x);
  const pout = q.rangeParams(s.y);
  const m = q.given ? tfliteMeanMultiplier(pin.scale / pout.scale, s.reduce) : fixedMultiplier(pin.scale / (pout.scale * s.reduce));
  q.outputS8(s.y, pout, y => q.push({
    kernel: 'mean_s8', from: step.from, op: step.op, reads: [x], writes: [y], inPlace: [],
    call: p => `es_mean_s8(${p.read(x)}, ${p.write(y)}, ${s.outer}, ${s.reduce}, ${s.inner}, ${pin.zp}, ${pout.zp}, ${m.mult}, ${m.shift})`
  }), step.from);
}

const meanKernel: KernelModule<MeanStep> = {
  call: (step, p, fn) => {
    const a = step.args;
    return `${fn}(${p.read(a.x)}, ${p.write(a.y)}, ${a.outer}, ${a.reduce}, ${a.inner})`;
  },
  int8: lowerMean,
  reference(step, get) {
    const a = step.args;
    const x = get(a.x);
    const y = new Float32Array(a.outer * a.inner);
    for (let o = 0; o < a.outer; o++) for (let r = 0; r < a.reduce; r++) for (let i = 0; i < a.inner; i++) y[o * a.inner + i] += x[(o * a.reduce + r) * a.inner + i];
    return [y.map(v => v / a.reduce)];
  }
};

/** TFLite's int8 softmax output: scale 1/256, zero point -128. */
const SOFTMAX_OUTPUT: QParams = { scale: 1 / 256, zp: -128 };

/** The float table of TFLite's PopulateSoftmaxLookupTable (beta 1): entry 255 - d is expf(-in_scale * d). */
export function softmaxTable(inScale: number): Float32Array {
  const f = Math.fround;
  const scale = f(-f(inScale));
  const table = new Float32Array(256);
  for (let d = 0; d <= 255; d++) table[255 - d] = f(Math.exp(f(scale * d)));
  return table;
}

/** int8 softmax as TFLite's (es_softmax_s8); calibrated, the output takes TFLite's fixed parameters. */
function lowerSoftmax(step: SoftmaxStep, q: Int8Context): void {
  const s = step.args;
  const x = q.as(s.x, 's8', step.from);
  const pin = q.paramsOf(x);
  const pout = q.given ? q.rangeParams(s.y) : SOFTMAX_OUTPUT;
  const table = softmaxTable(pin.scale);
  const w = q.addWeight({ name: `${s.y}#softmax_table`, source: step.from.source ?? step.from.name, module: step.from.module, shape: [256],
    packing: 'float32 exp table of the input scale (TFLite softmax)', bytes: Buffer.from(table.buffer, table.byteOffset, table.byteLength), elementBytes: 4 });
  q.outputS8(s.y, pout, y => q.push({
    kernel: 'softmax_s8', from: step.from, op: step.op, reads: [x, w], writes: [y], inPlace: [],
    call: p => `es_softmax_s8(${p.read(x)}, ${p.write(y)}, ${s.outer}, ${s.axis}, ${s.inner}, ${p.read(w)}, ${floatLiteral(pout.scale)}, ${pout.zp})`
  }), step.from);
}

function softmaxKernel(log: boolean): KernelModule<SoftmaxStep> {
  return {
    ...(log ? {} : { int8: lowerSoftmax }),
    call: (step, p, fn) => {
      const a = step.args;
      return `${fn}(${p.read(a.x)}, ${p.write(a.y)}, ${a.outer}, ${a.axis}, ${a.inner})`;
    },
    reference(step, get) {
      const a = step.args;
      const x = get(a.x);
      const y = new Float32Array(x.length);
      for (let o = 0; o < a.outer; o++) for (let i = 0; i < a.inner; i++) {
        const at = (k: number) => (o * a.axis + k) * a.inner + i;
        let m = -Infinity;
        for (let k = 0; k < a.axis; k++) m = Math.max(m, x[at(k)]);
        let sum = 0;
        for (let k = 0; k < a.axis; k++) sum += Math.exp(x[at(k)] - m);
        for (let k = 0; k < a.axis; k++) y[at(k)] = log ? x[at(k)] - m - Math.log(sum) : Math.exp(x[at(k)] - m) / sum;
      }
      return [y];
    }
  };
}

/** Folds the reduce axis of each [outer][reduce][inner] column with `f`, from `start`. */
function foldColumns(x: Float32Array, a: { outer: number; reduce: number; inner: number }, start: number, f: (acc: number, v: number) => number): Float32Array {
  const y = new Float32Array(a.outer * a.inner);
  for (let o = 0; o < a.outer; o++) for (let i = 0; i < a.inner; i++) {
    let acc = start;
    for (let r = 0; r < a.reduce; r++) acc = f(acc, x[(o * a.reduce + r) * a.inner + i]);
    y[o * a.inner + i] = acc;
  }
  return y;
}

const nanOr = (pick: (p: number, q: number) => number) => (acc: number, v: number) => (Number.isNaN(acc) || Number.isNaN(v) ? NaN : pick(acc, v));

/** int8 reduce_max/min as TFLite's: the codes compared as they are, the output at the input's scale and zero point. */
function lowerExtremum(step: ReduceStep, q: Int8Context): void {
  const a = step.args;
  if (q.given && !q.sameGivenParams(a.x, a.y)) return q.fallback(step);
  const x = q.as(a.x, 's8', step.from);
  const pin = q.paramsOf(x);
  q.outputS8(a.y, pin, y => q.push({
    kernel: `${step.kernel}_s8`, from: step.from, op: step.op, reads: [x], writes: [y], inPlace: [],
    call: p => `es_${step.kernel}_s8(${p.read(x)}, ${p.write(y)}, ${a.outer}, ${a.reduce}, ${a.inner})`
  }), step.from);
}

function reduceKernel(start: number, f: (acc: number, v: number) => number, int8?: (step: ReduceStep, q: Int8Context) => void): KernelModule<ReduceStep> {
  return {
    call: (step, p, fn) => {
      const a = step.args;
      return `${fn}(${p.read(a.x)}, ${p.write(a.y)}, ${a.outer}, ${a.reduce}, ${a.inner})`;
    },
    ...(int8 ? { int8 } : {}),
    reference: (step, get) => [foldColumns(get(step.args.x), step.args, start, f)]
  };
}

/** int8 argmax / argmin: the codes compared as they are (they order as the real values do), the index a float32 as in fp32. */
function lowerArgReduce(step: ArgReduceStep, q: Int8Context): void {
  const a = step.args;
  if (q.fpWeights.has(a.x) || (q.given && q.dtypeOf(a.x) !== 's8' && !q.given.activations.has(a.x))) return q.fallback(step);
  const x = q.as(a.x, 's8', step.from);
  if (q.homeOf(a.y) === undefined) q.hold(a.y, 'f32');
  const kernel = `${step.kernel}_s8`;
  q.push({
    kernel, from: step.from, op: step.op, reads: [x], writes: [a.y], inPlace: [],
    call: p => `es_${kernel}(${p.read(x)}, ${p.write(a.y)}, ${a.outer}, ${a.reduce}, ${a.inner}, ${a.last ? 1 : 0})`
  });
}

function argReduceKernel(better: (v: number, best: number) => boolean): KernelModule<ArgReduceStep> {
  return {
    int8: lowerArgReduce,
    call: (step, p, fn) => {
      const a = step.args;
      return `${fn}(${p.read(a.x)}, ${p.write(a.y)}, ${a.outer}, ${a.reduce}, ${a.inner}, ${a.last ? 1 : 0})`;
    },
    reference(step, get) {
      const a = step.args;
      const x = get(a.x);
      const y = new Float32Array(a.outer * a.inner);
      for (let o = 0; o < a.outer; o++) for (let i = 0; i < a.inner; i++) {
        let best = 0;
        for (let r = 1; r < a.reduce; r++) {
          const v = x[(o * a.reduce + r) * a.inner + i];
          const b = x[(o * a.reduce + best) * a.inner + i];
          if (better(v, b) || (a.last && v === b)) best = r;
        }
        y[o * a.inner + i] = best;
      }
      return [y];
    }
  };
}

export const reduceModule: OpModule = {
  ops: {
    mean, softmax: softmaxLike('softmax'), log_softmax: softmaxLike('log_softmax'),
    sum: reduceOp('sum'), reduce_max: reduceOp('reduce_max'), reduce_min: reduceOp('reduce_min'),
    argmax: argReduceOp('argmax'), argmin: argReduceOp('argmin')
  },
  kernels: {
    mean: meanKernel, softmax: softmaxKernel(false), log_softmax: softmaxKernel(true),
    sum: reduceKernel(0, (acc, v) => acc + v),
    reduce_max: reduceKernel(-Infinity, nanOr(Math.max), lowerExtremum),
    reduce_min: reduceKernel(Infinity, nanOr(Math.min), lowerExtremum),
    argmax: argReduceKernel((v, best) => v > best),
    argmin: argReduceKernel((v, best) => v < best)
  }
};
