// mean, softmax and log_softmax: reductions over [outer][axis][inner] views.

import { LogSoftmaxNode, MeanNode, SoftmaxNode } from '../build/ir';
import { MeanStep, SoftmaxStep } from '../build/schedule';
import { formatShape, numel } from '../build/shape';
import { FixedMultiplier, fixedMultiplier } from '../build/quantize/params';
import { Int8Context, KernelModule, NotSupported, OpModule, OpRule } from './opModule';

const mean: OpRule<MeanNode> = {
  kernels: ['mean', 'copy'],
  toIr: (_node, a, base) => ({ ...base, op: 'mean', attrs: { axes: a.ints('axes'), keepdim: a.bool('keepdim', false) } }),
  toNHWC(node, r) {
    const x = node.inputs[0];
    if (!r.is4d(x)) return;
    let layout = r.agnosticLayout([x]);
    if (!node.attrs.keepdim && !r.keepsOrder(x, node.attrs.axes, layout)) layout = r.originalLayout(x);
    node.inputs[0] = r.want(x, layout, node.module);
    node.attrs = { ...node.attrs, axes: node.attrs.axes.map(a => r.memoryAxis(x, a, layout)).sort((p, q) => p - q) };
    if (node.attrs.keepdim) r.produce(node.outputs[0], layout);
  },
  select(node, s) {
    const [x] = node.inputs;
    const [y] = node.outputs;
    const shape = s.tensor(x).shape;
    const reduced = node.attrs.axes.filter(a => shape[a] !== 1);
    if (reduced.length === 0) {
      return s.push({ kernel: 'copy', reads: [s.act(x)], writes: [s.act(y)], inPlace: [], args: { x, y, count: numel(shape) } }, node);
    }
    const first = Math.min(...reduced);
    const last = Math.max(...reduced);
    const between = shape.slice(first, last + 1).map((d, i) => ({ d, axis: first + i }));
    if (between.some(({ d, axis }) => d !== 1 && !reduced.includes(axis))) {
      throw new NotSupported(`mean over axes ${JSON.stringify(node.attrs.axes)} of ${formatShape(shape)} is not over adjacent axes`);
    }
    s.push({
      kernel: 'mean', reads: [s.act(x)], writes: [s.act(y)], inPlace: [],
      args: { x, y, outer: numel(shape.slice(0, first)), reduce: numel(shape.slice(first, last + 1)), inner: numel(shape.slice(last + 1)) }
    }, node);
  }
};

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

function softmaxKernel(log: boolean): KernelModule<SoftmaxStep> {
  return {
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

export const reduceModule: OpModule = {
  ops: { mean, softmax: softmaxLike('softmax'), log_softmax: softmaxLike('log_softmax') },
  kernels: { mean: meanKernel, softmax: softmaxKernel(false), log_softmax: softmaxKernel(true) }
};
