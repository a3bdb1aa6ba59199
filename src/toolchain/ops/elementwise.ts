// add, sub, mul, div: broadcast over up to 4 dims, or with a scalar attribute; maximum,
// minimum, prelu (the slope broadcast against x) and pow_tensor (a run-time exponent): broadcast,
// without a scalar.

import { BinaryNode, BinaryOp } from '../build/ir';
import { BinaryStep, ScalarStep } from '../build/schedule';
import { broadcastStrides, numel } from '../build/shape';
import { activationBounds, activationParams, FixedMultiplier, fixedMultiplier, QParams, quantizeValue } from '../build/quantize/params';
import type { GivenWeight } from '../build/quantize/givenQuantization';
import { act, floatLiteral, ints } from './cText';
import { clampValue } from './common';
import { Int8Context, KernelModule, NotSupported, OpModule, OpRule } from './opModule';

/** Binaries that also run on integer tensors (kernels/integer/, ops/indices.ts), chosen by the output's dtype. */
const INTEGER_OPS: readonly BinaryOp[] = ['add', 'sub', 'mul'];

const SCALAR_KERNEL: Partial<Record<BinaryOp, string>> = { add: 'add_scalar', sub: 'add_scalar', mul: 'mul_scalar', div: 'mul_scalar' };

function binary(op: BinaryOp): OpRule<BinaryNode> {
  const scalarKernel = SCALAR_KERNEL[op];
  return {
    kernels: [op, ...(scalarKernel ? [scalarKernel] : []), ...(INTEGER_OPS.includes(op) ? [`${op}_i32`, `${op}_i64`] : [])],
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
      const [a, b] = node.inputs.map(t => s.operand(t));
      const shapeOf = (t: string) => s.tensor(s.source(t)).shape;
      const inPlace = node.inputs.filter(t => !s.isWeight(t) && numel(shapeOf(t)) === count);
      const aShape = s.packed(a)?.shape ?? shapeOf(a);
      const bShape = s.packed(b)?.shape ?? shapeOf(b);
      const walk = outShape.length > 4 ? coalesceBroadcast(outShape, aShape, bShape) : undefined;
      if (walk && walk.outShape.length > 4) throw new NotSupported(`elementwise ${node.op} on a ${outShape.length}-D tensor whose broadcast needs ${walk.outShape.length} dims (up to 4)`);
      const padded = walk ? padTo4(walk) : {
        outShape: [...new Array<number>(4 - outShape.length).fill(1), ...outShape], aStrides: broadcastStrides(aShape, 4), bStrides: broadcastStrides(bShape, 4)
      };
      const integer = s.tensor(y).dtype;
      s.push({
        kernel: integer ? `${node.op}_${integer === 'int64' ? 'i64' : 'i32'}` as BinaryStep['kernel'] : node.op, reads: [a, b], writes: [s.act(y)], inPlace,
        args: { a, aStrides: padded.aStrides, b, bStrides: padded.bStrides, y, outShape: padded.outShape, act }
      }, node);
    }
  };
}

interface BroadcastWalk {
  outShape: number[];
  aStrides: number[];
  bStrides: number[];
}

/**
 * The same broadcast over fewer dims: size-1 output dims dropped, and neighbours merged where
 * both operands walk them as one (stride[i] = stride[i+1] x size[i+1], which also holds when
 * both are broadcast). A 5-D add of Swin's windowed attention and its mask needs 4 or fewer.
 */
export function coalesceBroadcast(outShape: readonly number[], aShape: readonly number[], bShape: readonly number[]): BroadcastWalk {
  const rank = outShape.length;
  const a = broadcastStrides(aShape, rank);
  const b = broadcastStrides(bShape, rank);
  const dims = outShape.map((size, i) => ({ size, a: a[i], b: b[i] })).filter(d => d.size !== 1);
  const merged: typeof dims = [];
  for (const d of dims) {
    const last = merged[merged.length - 1];
    if (last && last.a === d.a * d.size && last.b === d.b * d.size) {
      merged[merged.length - 1] = { size: last.size * d.size, a: d.a, b: d.b };
    } else {
      merged.push({ ...d });
    }
  }
  return { outShape: merged.map(d => d.size), aStrides: merged.map(d => d.a), bStrides: merged.map(d => d.b) };
}

function padTo4(w: BroadcastWalk): BroadcastWalk {
  const lead = 4 - w.outShape.length;
  const pad = (v: number[], fill: number) => [...new Array<number>(lead).fill(fill), ...v];
  return { outShape: pad(w.outShape, 1), aStrides: pad(w.aStrides, 0), bStrides: pad(w.bStrides, 0) };
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
  add: (p, q) => p + q, sub: (p, q) => p - q, mul: (p, q) => p * q, div: (p, q) => p / q,
  maximum: (p, q) => (Number.isNaN(p) || Number.isNaN(q) ? NaN : Math.max(p, q)),
  minimum: (p, q) => (Number.isNaN(p) || Number.isNaN(q) ? NaN : Math.min(p, q)),
  prelu: (p, q) => (p >= 0 ? p : p * q),
  pow_tensor: (p, q) => Math.fround(Math.pow(p, q))
};

function denseStrides(shape: number[]): number[] {
  return shape.map((_, d) => shape.slice(d + 1).reduce((p, q) => p * q, 1));
}

/** TFLite's ADD/SUB rescaling: each operand to twice the larger input scale, the sum back to the output's after a 20-bit shift. */
function addSubMultipliers(pa: QParams, pb: QParams, pout: QParams): { ma: FixedMultiplier; mb: FixedMultiplier; mo: FixedMultiplier } {
  const twiceMax = 2 * Math.max(pa.scale, pb.scale);
  return {
    ma: fixedMultiplier(pa.scale / twiceMax),
    mb: fixedMultiplier(pb.scale / twiceMax),
    mo: fixedMultiplier(twiceMax / (2 ** 20 * pout.scale))
  };
}

/**
 * An operand of an int8 add, sub or mul in int8: an activation as held, a constant as codes in the
 * model's own parameters (per tensor), or, calibrated, in int8 over its range and 0. Undefined when
 * a constant cannot be held so (per-channel given parameters): the step then stays fp32.
 */
function int8Operand(q: Int8Context, t: string, step: BinaryStep): { name: string; p: QParams } | undefined {
  const fw = q.fpWeights.get(t);
  if (!fw) {
    const name = q.as(t, 's8', step.from);
    return { name, p: q.paramsOf(name) };
  }
  let p: QParams | undefined;
  if (!q.given) {
    p = activationParams(fw.data.reduce((m, v) => Math.min(m, v), 0), fw.data.reduce((m, v) => Math.max(m, v), 0));
  } else {
    const given = givenWeight(q, fw.source);
    p = given && given.scales.length === 1 ? { scale: given.scales[0], zp: given.zeroPoints[0] } : undefined;
  }
  return p && { name: constantCodes(q, t, p, step), p };
}

/** Both operands of a binary int8 step, or undefined when both are constants or one cannot be held in int8. */
function int8Operands(step: BinaryStep, q: Int8Context): [{ name: string; p: QParams }, { name: string; p: QParams }] | undefined {
  const s = step.args;
  if (q.fpWeights.has(s.a) && q.fpWeights.has(s.b)) return undefined;
  const a = int8Operand(q, s.a, step);
  const b = a && int8Operand(q, s.b, step);
  return a && b ? [a, b] : undefined;
}

/**
 * int8 add as TFLite's ADD (es_add_s8's 20-bit scheme). Operands read densely (or broadcast along
 * size-1 dims only) take es_add_s8; a constant or broadcast operand (an LSTM's bias row, a scalar)
 * takes es_add_broadcast_s8, the same arithmetic through 4-D strides.
 */
function lowerAdd(step: BinaryStep, q: Int8Context): void {
  const s = step.args;
  const operands = int8Operands(step, q);
  if (!operands) return q.fallback(step);
  const [{ name: a, p: pa }, { name: b, p: pb }] = operands;
  const pout = q.rangeParams(s.y);
  const { ma, mb, mo } = addSubMultipliers(pa, pb, pout);
  const [lo, hi] = activationBounds(s.act.min, s.act.max, pout);
  const dense = denseStrides(s.outShape);
  const isDense = (st: number[]) => st.every((v, i) => v === dense[i] || s.outShape[i] === 1);
  if (!(isDense(s.aStrides) && isDense(s.bStrides))) {
    return q.outputS8(s.y, pout, y => q.push({
      kernel: 'add_broadcast_s8', from: step.from, op: step.op, reads: [a, b], writes: [y], inPlace: [],
      call: p => `es_add_broadcast_s8(${p.read(a)}, ${ints(s.aStrides)}, ${pa.zp}, ${ma.mult}, ${ma.shift}, ${p.read(b)}, ${ints(s.bStrides)}, ${pb.zp}, ${mb.mult}, ${mb.shift},\n      ${p.write(y)}, ${ints(s.outShape)}, ${pout.zp}, ${mo.mult}, ${mo.shift}, ${lo}, ${hi})`
    }), step.from);
  }
  const count = numel(s.outShape);
  const inPlace = step.inPlace.filter(t => t === s.a || t === s.b).map(t => (t === s.a ? a : b)).filter(t => q.homeOf(t) === 'arena');
  q.outputS8(s.y, pout, y => q.push({
    kernel: 'add_s8', from: step.from, op: step.op, reads: [a, b], writes: [y], inPlace: q.homeOf(y) === 'arena' ? inPlace : [],
    call: p => `es_add_s8(${p.read(a)}, ${pa.zp}, ${ma.mult}, ${ma.shift}, ${p.read(b)}, ${pb.zp}, ${mb.mult}, ${mb.shift},\n      ${p.write(y)}, ${count}, ${pout.zp}, ${mo.mult}, ${mo.shift}, ${lo}, ${hi})`
  }), step.from);
}

/** Codes of an input requantized to the output: 0 (a plain copy of the codes) when the parameters are the same. */
function toOutput(pin: QParams, pout: QParams): FixedMultiplier {
  return pin.scale === pout.scale && pin.zp === pout.zp ? { mult: 0, shift: 0 } : fixedMultiplier(pin.scale / pout.scale);
}

/** A constant's int8 codes in `p`: for the model's own integers, quantizing their dequantized values gives them back. */
function constantCodes(q: Int8Context, name: string, p: QParams, step: BinaryStep): string {
  const fw = q.fpWeights.get(name)!;
  const codes = Int8Array.from(fw.data, v => quantizeValue(v, p));
  // named after the step too: the same constant may be held in other parameters elsewhere
  return q.addWeight({ name: `${name}#s8:${step.args.y}`, source: fw.source, module: fw.module, shape: fw.shape, packing: `${fw.packing}, int8 per tensor (${step.op})`,
    bytes: Buffer.from(codes.buffer, codes.byteOffset, codes.byteLength), elementBytes: 1 });
}

/**
 * int8 maximum / minimum, broadcast. An int8 .tflite compares the codes as they are, as
 * TFLite's MAXIMUM and MINIMUM do (the converter gives inputs and output one quantization);
 * calibrated, each input is first requantized to the output's parameters. A constant operand
 * is held in the model's own integers, or calibrated, directly in the output's parameters.
 */
function lowerMaxMin(step: BinaryStep, q: Int8Context): void {
  const s = step.args;
  const isConst = (t: string) => q.fpWeights.has(t);
  if (isConst(s.a) && isConst(s.b)) return q.fallback(step);
  const pout = q.rangeParams(s.y);
  const constParams = (t: string): QParams | undefined => {
    if (!q.given) return pout;
    const given = givenWeight(q, q.fpWeights.get(t)!.source);
    return given && given.scales.length === 1 ? { scale: given.scales[0], zp: given.zeroPoints[0] } : undefined;
  };
  const none = { mult: 0, shift: 0 };
  const operand = (t: string): { name: string; p: QParams; m: FixedMultiplier } | undefined => {
    if (isConst(t)) {
      const p = constParams(t);
      return p && { name: constantCodes(q, t, p, step), p, m: none };
    }
    const name = q.as(t, 's8', step.from);
    const p = q.paramsOf(name);
    return { name, p, m: q.given ? none : toOutput(p, pout) };
  };
  if ([s.a, s.b].some(t => isConst(t) && !constParams(t))) return q.fallback(step);
  const { name: a, p: pa, m: ma } = operand(s.a)!;
  const { name: b, p: pb, m: mb } = operand(s.b)!;
  const [lo, hi] = activationBounds(s.act.min, s.act.max, pout);
  const kernel = `${step.kernel}_s8`;
  q.outputS8(s.y, pout, y => q.push({
    kernel, from: step.from, op: step.op, reads: [a, b], writes: [y], inPlace: [],
    call: p => `es_${kernel}(${p.read(a)}, ${ints(s.aStrides)}, ${pa.zp}, ${ma.mult}, ${ma.shift}, ${p.read(b)}, ${ints(s.bStrides)}, ${pb.zp}, ${mb.mult}, ${mb.shift},\n      ${p.write(y)}, ${ints(s.outShape)}, ${pout.zp}, ${lo}, ${hi})`
  }), step.from);
}

/**
 * int8 mul as TFLite's MUL: out_zp + requant((qa - a_zp) * (qb - b_zp)) by a_scale * b_scale /
 * out_scale (in double, as its Prepare), broadcast. A constant operand is held in the model's
 * own integers (per tensor), or calibrated, in int8 over its range.
 */
function lowerMul(step: BinaryStep, q: Int8Context): void {
  const s = step.args;
  const operands = int8Operands(step, q);
  if (!operands) return q.fallback(step);
  const [{ name: a, p: pa }, { name: b, p: pb }] = operands;
  const pout = q.rangeParams(s.y);
  const m = fixedMultiplier(pa.scale * pb.scale / pout.scale);
  const [lo, hi] = activationBounds(s.act.min, s.act.max, pout);
  q.outputS8(s.y, pout, y => q.push({
    kernel: 'mul_s8', from: step.from, op: step.op, reads: [a, b], writes: [y], inPlace: [],
    call: p => `es_mul_s8(${p.read(a)}, ${ints(s.aStrides)}, ${pa.zp}, ${p.read(b)}, ${ints(s.bStrides)}, ${pb.zp},\n      ${p.write(y)}, ${ints(s.outShape)}, ${pout.zp}, ${m.mult}, ${m.shift}, ${lo}, ${hi})`
  }), step.from);
}

/**
 * int8 sub as TFLite's SUB (its ADD's scheme, es_add_s8): both operands less their zero points
 * shifted left by 20 bits and rescaled to twice the larger input scale, the difference requantized
 * to the output (multipliers in double, as its Prepare), broadcast. A constant operand (a GRU's
 * 1 - z) is held as int8 codes, as lowerMul holds one.
 */
function lowerSub(step: BinaryStep, q: Int8Context): void {
  const s = step.args;
  const operands = int8Operands(step, q);
  if (!operands) return q.fallback(step);
  const [{ name: a, p: pa }, { name: b, p: pb }] = operands;
  const pout = q.rangeParams(s.y);
  const { ma, mb, mo } = addSubMultipliers(pa, pb, pout);
  const [lo, hi] = activationBounds(s.act.min, s.act.max, pout);
  q.outputS8(s.y, pout, y => q.push({
    kernel: 'sub_s8', from: step.from, op: step.op, reads: [a, b], writes: [y], inPlace: [],
    call: p => `es_sub_s8(${p.read(a)}, ${ints(s.aStrides)}, ${pa.zp}, ${ma.mult}, ${ma.shift}, ${p.read(b)}, ${ints(s.bStrides)}, ${pb.zp}, ${mb.mult}, ${mb.shift},\n      ${p.write(y)}, ${ints(s.outShape)}, ${pout.zp}, ${mo.mult}, ${mo.shift}, ${lo}, ${hi})`
  }), step.from);
}

/** The model's own integers of a constant operand. The layout pass names a weight's re-laid
 * copies `<name>:4d`, `<name>:nhwc`... (passes/toNHWC.ts): the bundle's name is found under them. */
function givenWeight(q: Int8Context, source: string): GivenWeight | undefined {
  for (let name = source; ; ) {
    const found = q.given?.weights.get(name);
    if (found) return found;
    const parent = name.replace(/:(4d|nhwc|nchw|plain)(_\d+)?$/, '');
    if (parent === name) return undefined;
    name = parent;
  }
}

/** The slope's integers and their (per-tensor) parameters: the model's own, or symmetric over max |slope|. */
function preluSlope(values: Float32Array, given: GivenWeight | undefined): { q: Int8Array; p: QParams } | undefined {
  if (given && given.scales.length !== 1) return undefined;
  const maxAbs = values.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  const p = given ? { scale: given.scales[0], zp: given.zeroPoints[0] } : { scale: maxAbs > 0 ? Math.fround(maxAbs / 127) : 1, zp: 0 };
  // the packed values are the model's integers dequantized: quantizing them again gives those integers back
  return { q: Int8Array.from(values, v => quantizeValue(v, p)), p };
}

/**
 * int8 prelu as TFLite's PRELU (BroadcastPrelu4DSlow): x = q - in_zp; x >= 0 requantized by
 * in_scale / out_scale, below x * (alpha - alpha_zp) by in_scale * alpha_scale / out_scale
 * (both in float32, as its Prepare), plus the output zero point. The slope must be a constant.
 */
function lowerPrelu(step: BinaryStep, q: Int8Context): void {
  const s = step.args;
  const fw = q.fpWeights.get(s.b);
  // TFLite's PRELU clamps to the int8 range only
  const clamped = s.act.min > -Infinity || s.act.max < Infinity;
  if (!fw || q.fpWeights.has(s.a) || clamped) return q.fallback(step);
  const given = q.given ? givenWeight(q, fw.source) : undefined;
  if (q.given && !given) return q.fallback(step);
  const slope = preluSlope(fw.data, given);
  if (!slope) return q.fallback(step);
  const x = q.as(s.a, 's8', step.from);
  const pin = q.paramsOf(x);
  const pout = q.rangeParams(s.y);
  const identity = fixedMultiplier(Math.fround(pin.scale / pout.scale));
  const alpha = fixedMultiplier(Math.fround(Math.fround(pin.scale * Math.fround(slope.p.scale)) / pout.scale));
  const w = q.addWeight({ name: `${s.b}#s8`, source: fw.source, module: fw.module, shape: fw.shape, packing: `${fw.packing}, int8 per tensor`,
    bytes: Buffer.from(slope.q.buffer, slope.q.byteOffset, slope.q.byteLength), elementBytes: 1 });
  q.outputS8(s.y, pout, y => q.push({
    kernel: 'prelu_s8', from: step.from, op: step.op, reads: [x, w], writes: [y], inPlace: [],
    call: p => `es_prelu_s8(${p.read(x)}, ${ints(s.aStrides)}, ${pin.zp}, ${p.read(w)}, ${ints(s.bStrides)}, ${slope.p.zp},\n      ${p.write(y)}, ${ints(s.outShape)}, ${pout.zp}, ${identity.mult}, ${identity.shift}, ${alpha.mult}, ${alpha.shift})`
  }), step.from);
}

function binaryKernel(op: BinaryOp, int8?: (step: BinaryStep, q: Int8Context) => void, int8Functions?: readonly string[]): KernelModule<BinaryStep> {
  return {
    call: (step, p, fn) => {
      const a = step.args;
      return `${fn}(${p.read(a.a)}, ${ints(a.aStrides)}, ${p.read(a.b)}, ${ints(a.bStrides)},\n      ${p.write(a.y)}, ${ints(a.outShape)}, ${act(a.act)})`;
    },
    ...(int8 ? { int8 } : {}),
    ...(int8Functions ? { int8Functions } : {}),
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
  ops: {
    add: binary('add'), sub: binary('sub'), mul: binary('mul'), div: binary('div'),
    maximum: binary('maximum'), minimum: binary('minimum'), prelu: binary('prelu'), pow_tensor: binary('pow_tensor')
  },
  kernels: {
    add: binaryKernel('add', lowerAdd, ['es_add_s8', 'es_add_broadcast_s8']), sub: binaryKernel('sub', lowerSub), mul: binaryKernel('mul', lowerMul), div: binaryKernel('div'),
    maximum: binaryKernel('maximum', lowerMaxMin), minimum: binaryKernel('minimum', lowerMaxMin), prelu: binaryKernel('prelu', lowerPrelu),
    pow_tensor: binaryKernel('pow_tensor'),
    add_scalar: scalarKernel((v, s) => v + s), mul_scalar: scalarKernel((v, s) => v * s)
  }
};
