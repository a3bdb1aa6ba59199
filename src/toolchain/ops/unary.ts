// Elementwise ops of one input: relu and clamp (one kernel), hardswish, hardsigmoid,
// sigmoid, silu, tanh, gelu, leaky_relu, elu, selu, softplus, softsign, mish, and the math
// functions exp, log, sqrt, rsqrt, pow with a constant exponent, abs and neg. Each has a
// kernel (and a C file) of its own, so an image links only the ones its model uses.

import { ClampNode, EluNode, GeluNode, LeakyReluNode, PowNode, SoftplusNode, UnaryNode, UnaryOp } from '../build/ir';
import { ClampStep, EluStep, GeluStep, LeakyReluStep, PowStep, SoftplusStep, UnaryKernel, UnaryStep } from '../build/schedule';
import { numel } from '../build/shape';
import { activationBounds, fixedMultiplier } from '../build/quantize/params';
import { floatLiteral } from './cText';
import { clampValue, sameLayoutToNHWC } from './common';
import { LUT_FUNCTIONS, lowerLut, lutFunctions } from './lutInt8';
import { Int8Context, KernelModule, OpModule, OpRule } from './opModule';

/** relu and clamp both run the clamp kernel. */
function selectClamp(node: UnaryNode | ClampNode, s: Parameters<OpRule['select']>[1]): void {
  const [x] = node.inputs;
  const [y] = node.outputs;
  const [lo, hi] = node.op === 'relu' ? [0, Infinity] : [(node as ClampNode).attrs.min, (node as ClampNode).attrs.max];
  s.push({ kernel: 'clamp', reads: [s.act(x)], writes: [s.act(y)], inPlace: [x], args: { x, y, count: numel(s.tensor(x).shape), lo, hi } }, node);
}

function unaryOp(op: UnaryOp): OpRule<UnaryNode> {
  return {
    kernels: [op === 'relu' ? 'clamp' : op],
    toIr: (_node, _a, base) => ({ ...base, op, attrs: {} }),
    toNHWC: sameLayoutToNHWC,
    select(node, s) {
      if (node.op === 'relu') return selectClamp(node, s);
      const [x] = node.inputs;
      const [y] = node.outputs;
      s.push({ kernel: node.op as UnaryKernel, reads: [s.act(x)], writes: [s.act(y)], inPlace: [x], args: { x, y, count: numel(s.tensor(x).shape) } }, node);
    }
  };
}

const clamp: OpRule<ClampNode> = {
  kernels: ['clamp'],
  toIr: (_node, a, base) => ({ ...base, op: 'clamp', attrs: { min: a.optionalNumber('min') ?? -Infinity, max: a.optionalNumber('max') ?? Infinity } }),
  toNHWC: sameLayoutToNHWC,
  select: selectClamp
};

const gelu: OpRule<GeluNode> = {
  kernels: ['gelu'],
  toIr: (_node, a, base) => ({ ...base, op: 'gelu', attrs: { approximate: a.oneOf('approximate', ['none', 'tanh'] as const, 'none') } }),
  toNHWC: sameLayoutToNHWC,
  select(node, s) {
    const [x] = node.inputs;
    const [y] = node.outputs;
    s.push({ kernel: 'gelu', reads: [s.act(x)], writes: [s.act(y)], inPlace: [x], args: { x, y, count: numel(s.tensor(x).shape), tanh: node.attrs.approximate === 'tanh' } }, node);
  }
};

const leakyRelu: OpRule<LeakyReluNode> = {
  kernels: ['leaky_relu'],
  toIr: (_node, a, base) => ({ ...base, op: 'leaky_relu', attrs: { negativeSlope: a.number('negative_slope', 0.01) } }),
  toNHWC: sameLayoutToNHWC,
  select(node, s) {
    const [x] = node.inputs;
    const [y] = node.outputs;
    s.push({ kernel: 'leaky_relu', reads: [s.act(x)], writes: [s.act(y)], inPlace: [x],
      args: { x, y, count: numel(s.tensor(x).shape), slope: node.attrs.negativeSlope } }, node);
  }
};

/** int8 leaky_relu as TFLite's LEAKY_RELU: one requantization per branch, its multiplier
 * computed in float32 as TFLite's Prepare does. A negative slope (a negative multiplier) stays fp32. */
function lowerLeakyRelu(step: LeakyReluStep, q: Int8Context): void {
  const a = step.args;
  if (a.slope < 0) return q.fallback(step);
  const x = q.as(a.x, 's8', step.from);
  const pin = q.paramsOf(x);
  const pout = q.rangeParams(a.y);
  const identity = fixedMultiplier(Math.fround(pin.scale / pout.scale));
  const alpha = fixedMultiplier(Math.fround(Math.fround(pin.scale * Math.fround(a.slope)) / pout.scale));
  q.outputS8(a.y, pout, y => q.push({
    kernel: 'leaky_relu_s8', from: step.from, op: step.op, reads: [x], writes: [y], inPlace: x === a.x ? [x] : [],
    call: ptr => `es_leaky_relu_s8(${ptr.read(x)}, ${ptr.write(y)}, ${a.count}, ${pin.zp}, ${pout.zp}, ${identity.mult}, ${identity.shift}, ${alpha.mult}, ${alpha.shift})`
  }), step.from);
}

const leakyReluKernel: KernelModule<LeakyReluStep> = {
  call: (step, p, fn) => {
    const a = step.args;
    return `${fn}(${p.read(a.x)}, ${p.write(a.y)}, ${a.count}, ${floatLiteral(a.slope)})`;
  },
  int8: lowerLeakyRelu,
  reference: (step, get) => { const s = step.args.slope; return [get(step.args.x).map(v => (v >= 0 ? v : v * s))]; }
};

const elu: OpRule<EluNode> = {
  kernels: ['elu'],
  toIr: (_node, a, base) => ({ ...base, op: 'elu', attrs: { alpha: a.number('alpha', 1) } }),
  toNHWC: sameLayoutToNHWC,
  select(node, s) {
    const [x] = node.inputs;
    const [y] = node.outputs;
    s.push({ kernel: 'elu', reads: [s.act(x)], writes: [s.act(y)], inPlace: [x], args: { x, y, count: numel(s.tensor(x).shape), alpha: node.attrs.alpha } }, node);
  }
};

const softplus: OpRule<SoftplusNode> = {
  kernels: ['softplus'],
  toIr: (_node, a, base) => ({ ...base, op: 'softplus', attrs: { beta: a.number('beta', 1), threshold: a.optionalNumber('threshold') ?? Infinity } }),
  toNHWC: sameLayoutToNHWC,
  select(node, s) {
    const [x] = node.inputs;
    const [y] = node.outputs;
    s.push({ kernel: 'softplus', reads: [s.act(x)], writes: [s.act(y)], inPlace: [x],
      args: { x, y, count: numel(s.tensor(x).shape), beta: node.attrs.beta, threshold: node.attrs.threshold } }, node);
  }
};

const pow: OpRule<PowNode> = {
  kernels: ['pow'],
  toIr: (_node, a, base) => ({ ...base, op: 'pow', attrs: { exponent: a.number('exponent') } }),
  toNHWC: sameLayoutToNHWC,
  select(node, s) {
    const [x] = node.inputs;
    const [y] = node.outputs;
    s.push({ kernel: 'pow', reads: [s.act(x)], writes: [s.act(y)], inPlace: [x], args: { x, y, count: numel(s.tensor(x).shape), exponent: node.attrs.exponent } }, node);
  }
};

/** The real functions of the ops above, shared by their calibration references. */
export const SELU_ALPHA = 1.6732632423543772;
export const SELU_SCALE = 1.0507009873554805;
const eluValue = (v: number, alpha: number) => (v > 0 ? v : alpha * Math.expm1(v));
function softplusValue(v: number, beta: number, threshold: number): number {
  const z = v * beta;
  return z > threshold ? v : (Math.max(z, 0) + Math.log1p(Math.exp(-Math.abs(z)))) / beta;
}

const eluKernel: KernelModule<EluStep> = {
  call: (step, p, fn) => `${fn}(${p.read(step.args.x)}, ${p.write(step.args.y)}, ${step.args.count}, ${floatLiteral(step.args.alpha)})`,
  int8Functions: LUT_FUNCTIONS, int8: (step, q) => lowerLut(step, q, lutFunctions.elu(step.args.alpha)),
  reference: (step, get) => [get(step.args.x).map(v => eluValue(v, step.args.alpha))]
};

const softplusKernel: KernelModule<SoftplusStep> = {
  call: (step, p, fn) => {
    const a = step.args;
    return `${fn}(${p.read(a.x)}, ${p.write(a.y)}, ${a.count}, ${floatLiteral(a.beta)}, ${floatLiteral(a.threshold)})`;
  },
  int8Functions: LUT_FUNCTIONS, int8: (step, q) => lowerLut(step, q, v => softplusValue(v, step.args.beta, step.args.threshold)),
  reference: (step, get) => [get(step.args.x).map(v => softplusValue(v, step.args.beta, step.args.threshold))]
};

const powKernel: KernelModule<PowStep> = {
  call: (step, p, fn) => `${fn}(${p.read(step.args.x)}, ${p.write(step.args.y)}, ${step.args.count}, ${floatLiteral(step.args.exponent)})`,
  int8Functions: LUT_FUNCTIONS, int8: (step, q) => lowerLut(step, q, v => v ** step.args.exponent),
  reference: (step, get) => [get(step.args.x).map(v => v ** step.args.exponent)]
};

/** int8 clamp: the bounds in the input's codes; with given quantization only when input and output share parameters. */
function lowerClamp(step: ClampStep, q: Int8Context): void {
  const a = step.args;
  if (q.given && !q.sameGivenParams(a.x, a.y)) return q.fallback(step);
  const x = q.as(a.x, 's8', step.from);
  const p = q.paramsOf(x);
  const [lo, hi] = activationBounds(a.lo, a.hi, p);
  q.outputS8(a.y, p, y => q.push({
    kernel: 'clamp_s8', from: step.from, op: step.op, reads: [x], writes: [y], inPlace: x === a.x ? [x] : [],
    call: ptr => `es_clamp_s8(${ptr.read(x)}, ${ptr.write(y)}, ${a.count}, ${lo}, ${hi})`
  }), step.from);
}

const clampKernel: KernelModule<ClampStep> = {
  call: (step, p, fn) => {
    const a = step.args;
    return `${fn}(${p.read(a.x)}, ${p.write(a.y)}, ${a.count}, ${floatLiteral(a.lo)}, ${floatLiteral(a.hi)})`;
  },
  int8: lowerClamp,
  reference: (step, get) => { const a = step.args; return [get(a.x).map(v => clampValue(v, a.lo, a.hi))]; }
};

/** int8 abs as TFLite's ABS: |q - in_zp|, rescaled by in_scale / out_scale (float32, as its
 * Prepare) only when the two scales differ, plus the output zero point. */
function lowerAbs(step: UnaryStep, q: Int8Context): void {
  const a = step.args;
  const x = q.as(a.x, 's8', step.from);
  const pin = q.paramsOf(x);
  const pout = q.rangeParams(a.y);
  const m = pin.scale === pout.scale ? { mult: 0, shift: 0 } : fixedMultiplier(Math.fround(pin.scale / pout.scale));
  q.outputS8(a.y, pout, y => q.push({
    kernel: 'abs_s8', from: step.from, op: step.op, reads: [x], writes: [y], inPlace: x === a.x ? [x] : [],
    call: ptr => `es_abs_s8(${ptr.read(x)}, ${ptr.write(y)}, ${a.count}, ${pin.zp}, ${pout.zp}, ${m.mult}, ${m.shift})`
  }), step.from);
}

/** int8 neg as TFLite's NEG: in_zp + out_zp - q, input and output at one scale. Calibrated, the
 * output takes the input's scale and the negated zero point; a model whose NEG changes scale stays fp32. */
function lowerNeg(step: UnaryStep, q: Int8Context): void {
  const a = step.args;
  const x = q.as(a.x, 's8', step.from);
  const pin = q.paramsOf(x);
  const pout = q.given ? q.rangeParams(a.y) : { scale: pin.scale, zp: Math.min(127, -pin.zp) };
  if (pout.scale !== pin.scale) return q.fallback(step);
  q.outputS8(a.y, pout, y => q.push({
    kernel: 'neg_s8', from: step.from, op: step.op, reads: [x], writes: [y], inPlace: x === a.x ? [x] : [],
    call: ptr => `es_neg_s8(${ptr.read(x)}, ${ptr.write(y)}, ${a.count}, ${pin.zp + pout.zp})`
  }), step.from);
}

/** A one-input kernel: its C call and reference. */
function plainUnaryKernel(f: (v: number) => number): KernelModule<UnaryStep> {
  return {
    call: (step, p, fn) => {
      const a = step.args;
      return `${fn}(${p.read(a.x)}, ${p.write(a.y)}, ${a.count})`;
    },
    reference: (step, get) => [get(step.args.x).map(f)]
  };
}

/** A one-input kernel whose int8 form is a lookup table of `lut` (TFLite's float32 arithmetic where TFLite has the op), or of `f`. */
function unaryKernel(f: (v: number) => number, lut: (v: number) => number = f): KernelModule<UnaryStep> {
  return { ...plainUnaryKernel(f), int8Functions: LUT_FUNCTIONS, int8: (step, q) => lowerLut(step, q, lut) };
}

/** Abramowitz-Stegun 7.1.26: ranges only need a few digits. */
function erf(v: number): number {
  const t = 1 / (1 + 0.3275911 * Math.abs(v));
  const e = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-v * v);
  return v < 0 ? -e : e;
}

const geluKernel: KernelModule<GeluStep> = {
  call: (step, p, fn) => {
    const a = step.args;
    return `${fn}(${p.read(a.x)}, ${p.write(a.y)}, ${a.count}, ${a.tanh ? 1 : 0})`;
  },
  int8Functions: LUT_FUNCTIONS, int8: (step, q) => lowerLut(step, q, step.args.tanh ? lutFunctions.geluTanh : lutFunctions.gelu),
  reference(step, get) {
    const a = step.args;
    return [get(a.x).map(v => (a.tanh ? 0.5 * v * (1 + Math.tanh(0.7978845608 * (v + 0.044715 * v * v * v))) : 0.5 * v * (1 + erf(v / Math.SQRT2))))];
  }
};

export const unaryModule: OpModule = {
  ops: {
    relu: unaryOp('relu'), hardswish: unaryOp('hardswish'), hardsigmoid: unaryOp('hardsigmoid'), sigmoid: unaryOp('sigmoid'),
    silu: unaryOp('silu'), tanh: unaryOp('tanh'), clamp, gelu, leaky_relu: leakyRelu, elu, softplus, pow,
    selu: unaryOp('selu'), softsign: unaryOp('softsign'), mish: unaryOp('mish'), exp: unaryOp('exp'), erf: unaryOp('erf'), log: unaryOp('log'),
    sqrt: unaryOp('sqrt'), rsqrt: unaryOp('rsqrt'), abs: unaryOp('abs'), neg: unaryOp('neg')
  },
  kernels: {
    clamp: clampKernel,
    hardswish: unaryKernel(v => v * clampValue(v + 3, 0, 6) / 6),
    hardsigmoid: unaryKernel(v => clampValue(v + 3, 0, 6) / 6),
    sigmoid: unaryKernel(v => 1 / (1 + Math.exp(-v)), lutFunctions.sigmoid),
    silu: unaryKernel(v => v / (1 + Math.exp(-v))),
    tanh: unaryKernel(Math.tanh, lutFunctions.tanh),
    gelu: geluKernel,
    leaky_relu: leakyReluKernel,
    elu: eluKernel,
    softplus: softplusKernel,
    pow: powKernel,
    selu: unaryKernel(v => SELU_SCALE * eluValue(v, SELU_ALPHA)),
    softsign: unaryKernel(v => v / (1 + Math.abs(v))),
    mish: unaryKernel(v => v * Math.tanh(softplusValue(v, 1, Infinity))),
    exp: unaryKernel(Math.exp, lutFunctions.exp),
    log: unaryKernel(Math.log, lutFunctions.log),
    sqrt: { ...plainUnaryKernel(Math.sqrt), int8Functions: LUT_FUNCTIONS, int8: (step: UnaryStep, q: Int8Context) => lowerLut(step, q, lutFunctions.sqrt, 'toward-zero') },
    rsqrt: unaryKernel(v => 1 / Math.sqrt(v), lutFunctions.rsqrt),
    abs: { ...plainUnaryKernel(Math.abs), int8: lowerAbs },
    neg: { ...plainUnaryKernel(v => -v), int8: lowerNeg },
    erf: unaryKernel(erf)
  }
};
