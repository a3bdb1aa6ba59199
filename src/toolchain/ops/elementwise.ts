// add, sub, mul, div: broadcast over up to 4 dims, or with a scalar attribute.

import { BinaryNode, BinaryOp } from '../build/ir';
import { BinaryStep, ScalarStep } from '../build/schedule';
import { broadcastStrides, numel } from '../build/shape';
import { activationBounds, fixedMultiplier } from '../build/quantize/params';
import { act, floatLiteral, ints } from './cText';
import { clampValue } from './common';
import { Int8Context, KernelModule, NotSupported, OpModule, OpRule } from './opModule';

function binary(op: BinaryOp): OpRule<BinaryNode> {
  return {
    kernels: [op, op === 'add' || op === 'sub' ? 'add_scalar' : 'mul_scalar'],
    toIr: (node, a, base) => ({ ...base, op, attrs: { ...(a.has('scalar') ? { scalar: a.number('scalar') } : {}), activation: a.activation() } }),
    toNHWC(node, r) {
      const m = node.module;
      const y = node.outputs[0];
      if (r.tensor(y).shape.length !== 4) return;
      const yLayout = r.originalLayout(y);
      const operands = node.inputs.map(t => r.expandTo4d(t, yLayout, m));
      const activations = operands.filter(t => r.tensor(t).role !== 'weight');
      const layout = r.agnosticLayout(activations.length > 0 ? activations : operands);
      node.inputs = operands.map(t => r.want(t, layout, m));
      r.produce(y, layout);
    },
    select(node, s) {
      const y = node.outputs[0];
      const outShape = s.tensor(y).shape;
      const count = numel(outShape);
      const { scalar, activation: act } = node.attrs;
      if (scalar !== undefined) {
        const [x] = node.inputs;
        if (node.op === 'add' || node.op === 'sub') {
          const sc = node.op === 'add' ? scalar : -scalar;
          return s.push({ kernel: 'add_scalar', reads: [s.act(x)], writes: [s.act(y)], inPlace: [x], args: { x, s: sc, y, count, act } }, node);
        }
        const sc = node.op === 'mul' ? scalar : 1 / scalar;
        return s.push({ kernel: 'mul_scalar', reads: [s.act(x)], writes: [s.act(y)], inPlace: [x], args: { x, s: sc, y, count, act } }, node);
      }
      if (outShape.length > 4) throw new NotSupported(`elementwise ${node.op} on a ${outShape.length}-D tensor (up to 4 dims)`);
      const [a, b] = node.inputs.map(t => s.operand(t));
      const shapeOf = (t: string) => s.tensor(s.source(t)).shape;
      const padded = [...new Array<number>(4 - outShape.length).fill(1), ...outShape];
      const inPlace = node.inputs.filter(t => !s.isWeight(t) && numel(shapeOf(t)) === count);
      const aShape = s.packed(a)?.shape ?? shapeOf(a);
      const bShape = s.packed(b)?.shape ?? shapeOf(b);
      s.push({
        kernel: node.op, reads: [a, b], writes: [s.act(y)], inPlace,
        args: { a, aStrides: broadcastStrides(aShape, 4), b, bStrides: broadcastStrides(bShape, 4), y, outShape: padded, act }
      }, node);
    }
  };
}

function stridedIndex(i: number, shape: number[], strides: number[]): number {
  let off = 0;
  for (let d = 3; d >= 0; d--) {
    const pos = i % shape[d];
    i = Math.floor(i / shape[d]);
    off += pos * strides[d];
  }
  return off;
}

const FUNCTIONS: Record<BinaryOp, (p: number, q: number) => number> = {
  add: (p, q) => p + q, sub: (p, q) => p - q, mul: (p, q) => p * q, div: (p, q) => p / q
};

function denseStrides(shape: number[]): number[] {
  return shape.map((_, d) => shape.slice(d + 1).reduce((p, q) => p * q, 1));
}

/** int8 add: both operands activations, each read densely or broadcast along size-1 dims only. */
function lowerAdd(step: BinaryStep, q: Int8Context): void {
  const s = step.args;
  const dense = denseStrides(s.outShape);
  const isAct = (t: string) => !q.fpWeights.has(t);
  if (!(isAct(s.a) && isAct(s.b) && [s.aStrides, s.bStrides].every(st => st.every((v, i) => v === dense[i] || s.outShape[i] === 1)))) return q.fallback(step);
  const a = q.as(s.a, 's8', step.from);
  const b = q.as(s.b, 's8', step.from);
  const pa = q.paramsOf(a), pb = q.paramsOf(b);
  const pout = q.rangeParams(s.y);
  const twiceMax = 2 * Math.max(pa.scale, pb.scale);
  const ma = fixedMultiplier(pa.scale / twiceMax);
  const mb = fixedMultiplier(pb.scale / twiceMax);
  const mo = fixedMultiplier(twiceMax / (2 ** 20 * pout.scale));
  const [lo, hi] = activationBounds(s.act.min, s.act.max, pout);
  const count = numel(s.outShape);
  const inPlace = step.inPlace.filter(t => t === s.a || t === s.b).map(t => (t === s.a ? a : b)).filter(t => q.homeOf(t) === 'arena');
  q.outputS8(s.y, pout, y => q.push({
    kernel: 'add_s8', from: step.from, op: step.op, reads: [a, b], writes: [y], inPlace: q.homeOf(y) === 'arena' ? inPlace : [],
    call: p => `es_add_s8(${p.read(a)}, ${pa.zp}, ${ma.mult}, ${ma.shift}, ${p.read(b)}, ${pb.zp}, ${mb.mult}, ${mb.shift},\n      ${p.write(y)}, ${count}, ${pout.zp}, ${mo.mult}, ${mo.shift}, ${lo}, ${hi})`
  }), step.from);
}

function binaryKernel(op: BinaryOp, int8?: (step: BinaryStep, q: Int8Context) => void): KernelModule<BinaryStep> {
  return {
    call: (step, p, fn) => {
      const a = step.args;
      return `${fn}(${p.read(a.a)}, ${ints(a.aStrides)}, ${p.read(a.b)}, ${ints(a.bStrides)},\n      ${p.write(a.y)}, ${ints(a.outShape)}, ${act(a.act)})`;
    },
    ...(int8 ? { int8 } : {}),
    reference(step, _get, w) {
      const a = step.args;
      const x = w(a.a)!, z = w(a.b)!;
      const count = a.outShape.reduce((p, q) => p * q, 1);
      const f = FUNCTIONS[op];
      const y = new Float32Array(count);
      for (let i = 0; i < count; i++) y[i] = clampValue(f(x[stridedIndex(i, a.outShape, a.aStrides)], z[stridedIndex(i, a.outShape, a.bStrides)]), a.act.min, a.act.max);
      return [y];
    }
  };
}

function scalarKernel(f: (v: number, s: number) => number): KernelModule<ScalarStep> {
  return {
    call: (step, p, fn) => {
      const a = step.args;
      return `${fn}(${p.read(a.x)}, ${floatLiteral(a.s)}, ${p.write(a.y)}, ${a.count}, ${act(a.act)})`;
    },
    reference: (step, get) => { const a = step.args; return [get(a.x).map(v => clampValue(f(v, a.s), a.act.min, a.act.max))]; }
  };
}

export const elementwiseModule: OpModule = {
  ops: { add: binary('add'), sub: binary('sub'), mul: binary('mul'), div: binary('div') },
  kernels: {
    add: binaryKernel('add', lowerAdd), sub: binaryKernel('sub'), mul: binaryKernel('mul'), div: binaryKernel('div'),
    add_scalar: scalarKernel((v, s) => v + s), mul_scalar: scalarKernel((v, s) => v * s)
  }
};
