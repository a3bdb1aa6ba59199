// fp32 schedule + activation ranges → a mixed schedule: int8 kernels where one exists,
// fp32 kernels (with dequantize / quantize around them) elsewhere. The image keeps fp32
// inputs and outputs: the graph input is quantized inside the image, outputs dequantized.
// With given quantization (an int8 .tflite, givenQuantization.ts) every tensor keeps the
// model's own parameters and weights its own integers and biases, and each op rounds as
// TFLite's int8 kernel does.

import { EdgespecError } from '../../errors';
import { Provenance } from '../ir';
import { KernelStep, PackedWeight, Schedule, ScheduledTensor, Shape4 } from '../schedule';
import { numel } from '../shape';
import {
  activationBounds, activationParams, FixedMultiplier, fixedMultiplier, QParams, quantizePerChannel, roundHalfAway
} from './params';
import { GivenQuantization, GivenWeight } from './givenQuantization';

export type Dtype = 'f32' | 's8';

/** Turns tensor names into C pointer expressions (emitModelSource's Pointers). */
export interface PointerNames {
  read(name: string): string;
  write(name: string): string;
  optional(name: string | null): string;
}

/** An int8 (or conversion) step: planner fields as KernelStep, plus its C call. */
export interface Int8Step {
  kernel: string;
  from: Provenance;
  op: string;
  reads: string[];
  writes: string[];
  inPlace: string[];
  call: (p: PointerNames) => string;
}

export type MixedStep = KernelStep | Int8Step;

export function isInt8Step(step: MixedStep): step is Int8Step {
  return 'call' in step;
}

/** A weight of the int8 image: raw little-endian bytes. */
export interface RawWeight {
  name: string;
  source: string;
  module: string;
  shape: number[];
  packing: string;
  bytes: Buffer;
  elementBytes: number;
}

export interface QuantizedSchedule {
  model: string;
  steps: MixedStep[];
  tensors: Map<string, ScheduledTensor>;
  weights: RawWeight[];
  inputs: Schedule['inputs'];
  outputs: Schedule['outputs'];
  /** Every tensor's dtype and, for int8 ones, quantization. */
  dtypes: Map<string, Dtype>;
  params: Map<string, QParams>;
  /** Steps that stayed fp32 (op and layer), for the build log. */
  fallbacks: string[];
}

export type Ranges = Map<string, { min: number; max: number }>;

const shape4 = (s: Shape4) => `(es_shape4){${s.n}, ${s.h}, ${s.w}, ${s.c}}`;
const ints = (values: number[]) => `(const int32_t[]){${values.join(', ')}}`;

function int32Bytes(values: ArrayLike<number>): Buffer {
  const b = Buffer.alloc(values.length * 4);
  for (let i = 0; i < values.length; i++) b.writeInt32LE(values[i], i * 4);
  return b;
}

function floatBytes(values: Float32Array): Buffer {
  const b = Buffer.alloc(values.length * 4);
  for (let i = 0; i < values.length; i++) b.writeFloatLE(values[i], i * 4);
  return b;
}

function denseStrides(shape: number[]): number[] {
  return shape.map((_, d) => shape.slice(d + 1).reduce((p, q) => p * q, 1));
}

/** `given`: the bundle's own quantization; then `ranges` are not used. */
export function quantizeSchedule(fp: Schedule, ranges: Ranges, given?: GivenQuantization): QuantizedSchedule {
  return new Quantizer(fp, ranges, given).run();
}

class Quantizer {
  private readonly steps: MixedStep[] = [];
  private readonly tensors = new Map<string, ScheduledTensor>();
  private readonly weights = new Map<string, RawWeight>();
  private readonly dtypes = new Map<string, Dtype>();
  private readonly params = new Map<string, QParams>();
  private readonly converted = new Map<string, string>();
  private readonly fallbacks: string[] = [];
  private readonly fpWeights: Map<string, PackedWeight>;

  constructor(private readonly fp: Schedule, private readonly ranges: Ranges, private readonly given?: GivenQuantization) {
    this.fpWeights = new Map(fp.weights.map(w => [w.name, w]));
  }

  run(): QuantizedSchedule {
    for (const [name, t] of this.fp.tensors) if (t.home !== 'arena') this.register(name, 'f32', name);
    for (const step of this.fp.steps) this.lower(step);
    return {
      model: this.fp.model, steps: this.steps, tensors: this.tensors, weights: [...this.weights.values()],
      inputs: this.fp.inputs, outputs: this.fp.outputs, dtypes: this.dtypes, params: this.params, fallbacks: this.fallbacks
    };
  }

  private shapeOf(name: string): number[] {
    const t = this.fp.tensors.get(name) ?? this.fp.tensors.get(name.replace(/#(s8|f32)$/, ''));
    if (!t) throw new Error(`internal: no tensor ${name} in the fp32 schedule`);
    return t.shape;
  }

  private register(name: string, dtype: Dtype, like: string): string {
    const fpT = this.fp.tensors.get(like)!;
    const home = name === like ? fpT.home : 'arena';
    this.tensors.set(name, {
      name, shape: [...fpT.shape], bytes: numel(fpT.shape) * (dtype === 's8' ? 1 : 4), home,
      ...(home !== 'arena' && fpT.ioIndex !== undefined ? { ioIndex: fpT.ioIndex } : {})
    });
    this.dtypes.set(name, dtype);
    return name;
  }

  private rangeParams(name: string): QParams {
    if (this.given) {
      const p = this.given.activations.get(name);
      if (!p) throw new EdgespecError('int8-given-quantization', `the bundle gives no quantization for tensor ${name}, which the int8 image holds in int8`, 'capture the .tflite again; every int8 tensor of the model must carry its scale and zero point');
      return p;
    }
    const r = this.ranges.get(name);
    if (!r) throw new Error(`internal: no calibration range for tensor ${name}`);
    return activationParams(r.min, r.max);
  }

  /** The tensor `name` as `want`, converting (once) if it is held in the other dtype. */
  private as(name: string, want: Dtype, from: Provenance): string {
    if (this.dtypes.get(name) === want) return name;
    const key = `${name}#${want}`;
    const done = this.converted.get(key);
    if (done) return done;
    const count = numel(this.shapeOf(name));
    this.register(key, want, name);
    if (want === 's8') {
      const p = this.rangeParams(name);
      this.params.set(key, p);
      this.steps.push({
        kernel: 'quantize_s8', from, op: 'quantize', reads: [name], writes: [key], inPlace: [],
        call: ptr => `es_quantize_s8(${ptr.read(name)}, ${ptr.write(key)}, ${count}, ${floatLit(1 / p.scale)}, ${p.zp})`
      });
    } else {
      const p = this.params.get(name)!;
      this.steps.push({
        kernel: 'dequantize_s8', from, op: 'dequantize', reads: [name], writes: [key], inPlace: [],
        call: ptr => `es_dequantize_s8(${ptr.read(name)}, ${ptr.write(key)}, ${count}, ${floatLit(p.scale)}, ${p.zp})`
      });
    }
    this.converted.set(key, key);
    return key;
  }

  /** Where an int8 step writes `y`: y itself, or an arena tensor dequantized into a graph output. */
  private outputS8(y: string, p: QParams, then: (target: string) => void, from: Provenance): void {
    const home = this.fp.tensors.get(y)!.home;
    if (home === 'arena') {
      this.register(y, 's8', y);
      this.params.set(y, p);
      then(y);
      return;
    }
    const tmp = `${y}#s8`;
    this.register(tmp, 's8', y);
    this.params.set(tmp, p);
    this.converted.set(tmp, tmp);
    then(tmp);
    const count = numel(this.shapeOf(y));
    this.steps.push({
      kernel: 'dequantize_s8', from, op: 'dequantize', reads: [tmp], writes: [y], inPlace: [],
      call: ptr => `es_dequantize_s8(${ptr.read(tmp)}, ${ptr.write(y)}, ${count}, ${floatLit(p.scale)}, ${p.zp})`
    });
  }

  /** Given quantization: x and y have the same parameters (ops that keep them, as TFLite's pools require). */
  private sameGivenParams(x: string, y: string): boolean {
    const a = this.given!.activations.get(x), b = this.given!.activations.get(y);
    return a !== undefined && b !== undefined && a.scale === b.scale && a.zp === b.zp;
  }

  private addWeight(w: RawWeight): string {
    if (!this.weights.has(w.name)) this.weights.set(w.name, w);
    return w.name;
  }

  private lower(step: KernelStep): void {
    switch (step.kernel) {
      case 'conv2d': case 'conv2d_depthwise': case 'gemm': return this.convLike(step);
      case 'add': {
        const a = step.args;
        const dense = denseStrides(a.outShape);
        const isAct = (t: string) => !this.fpWeights.has(t);
        if (isAct(a.a) && isAct(a.b) && [a.aStrides, a.bStrides].every(st => st.every((s, i) => s === dense[i] || a.outShape[i] === 1))) return this.add(step);
        return this.fallback(step);
      }
      case 'max_pool2d': case 'avg_pool2d': return this.pool(step);
      case 'mean': return this.mean(step);
      case 'concat': return this.concat(step);
      case 'clamp': {
        const a = step.args;
        if (this.given && !this.sameGivenParams(a.x, a.y)) return this.fallback(step);
        const x = this.as(a.x, 's8', step.from);
        const p = this.params.get(x)!;
        const [lo, hi] = activationBounds(a.lo, a.hi, p);
        return this.outputS8(a.y, p, y => this.steps.push({
          kernel: 'clamp_s8', from: step.from, op: step.op, reads: [x], writes: [y], inPlace: x === a.x ? [x] : [],
          call: ptr => `es_clamp_s8(${ptr.read(x)}, ${ptr.write(y)}, ${a.count}, ${lo}, ${hi})`
        }), step.from);
      }
      case 'alias': {
        const { x, y } = step.args;
        if (this.dtypes.get(x) !== 's8') return this.fallback(step);
        const p = this.params.get(x)!;
        if (this.fp.tensors.get(y)!.home !== 'arena') {
          const count = numel(this.shapeOf(y));
          this.register(y, 'f32', y);
          this.steps.push({
            kernel: 'dequantize_s8', from: step.from, op: 'dequantize', reads: [x], writes: [y], inPlace: [],
            call: ptr => `es_dequantize_s8(${ptr.read(x)}, ${ptr.write(y)}, ${count}, ${floatLit(p.scale)}, ${p.zp})`
          });
          return;
        }
        this.register(y, 's8', y);
        this.params.set(y, p);
        this.steps.push({ ...step, reads: [x], writes: [y] });
        return;
      }
      default:
        return this.fallback(step);
    }
  }

  /** An fp32 step as is, its activation inputs dequantized first. */
  private fallback(step: KernelStep): void {
    const rename = new Map<string, string>();
    for (const r of step.reads) {
      if (this.fpWeights.has(r)) {
        const w = this.fpWeights.get(r)!;
        this.addWeight({ name: w.name, source: w.source, module: w.module, shape: w.shape, packing: `${w.packing} (fp32)`, bytes: floatBytes(w.data), elementBytes: 4 });
      } else {
        rename.set(r, this.as(r, 'f32', step.from));
      }
    }
    if (step.kernel !== 'alias' && step.kernel !== 'copy' && step.kernel !== 'transpose') this.fallbacks.push(`${step.op} (${step.from.module || step.from.name})`);
    // Given quantization: the model holds this result in int8, so it is rounded to its parameters as the model's would be.
    const rounded = this.given ? step.writes.filter(y => this.given!.activations.has(y) && step.kernel !== 'alias') : [];
    for (const y of step.writes) this.register(rounded.includes(y) ? `${y}#f32` : y, 'f32', y);
    for (const y of rounded) rename.set(y, `${y}#f32`);
    if (rename.size === 0 || [...rename].every(([k, v]) => k === v)) { this.steps.push(step); return; }
    const swap = (t: string) => rename.get(t) ?? t;
    const inPlace = step.inPlace.map(swap).filter(t => !rounded.some(y => t === `${y}#f32`));
    this.steps.push({ ...step, reads: step.reads.map(swap), writes: step.writes.map(swap), inPlace, args: renameTensors(step.args, swap) } as KernelStep);
    for (const y of rounded) {
      const f = `${y}#f32`;
      const p = this.rangeParams(y);
      const count = numel(this.shapeOf(y));
      this.outputS8(y, p, target => this.steps.push({
        kernel: 'quantize_s8', from: step.from, op: 'quantize', reads: [f], writes: [target], inPlace: [],
        call: ptr => `es_quantize_s8(${ptr.read(f)}, ${ptr.write(target)}, ${count}, ${floatLit(1 / p.scale)}, ${p.zp})`
      }), step.from);
    }
  }

  private convLike(step: Extract<KernelStep, { kernel: 'conv2d' | 'conv2d_depthwise' | 'gemm' }>): void {
    const a = step.args;
    const xName = step.kernel === 'gemm' ? step.args.a : (step.args as { x: string }).x;
    const x = this.as(xName, 's8', step.from);
    const pin = this.params.get(x)!;
    const fw = this.fpWeights.get(a.w)!;
    // Channels: conv [OC][KH][KW][ICg] axis 0; depthwise [KH][KW][C] axis 2; gemm [K][N] → [N][K].
    let data = fw.data;
    let shape = fw.shape;
    let packing = `${fw.packing}, int8 per channel`;
    if (step.kernel === 'gemm') {
      const [k, n] = shape;
      const t = new Float32Array(k * n);
      for (let i = 0; i < k; i++) for (let j = 0; j < n; j++) t[j * k + i] = data[i * n + j];
      data = t;
      shape = [n, k];
      packing = `${fw.packing}→[N][K], int8 per channel`;
    }
    const axis = step.kernel === 'conv2d_depthwise' ? 2 : 0;
    const givenWeight = this.given?.weights.get(fw.source);
    const { q, scales } = givenWeight ? givenIntegers(data, shape, axis, givenWeight, fw.source) : quantizePerChannel(data, shape, axis);
    const channels = shape[axis];
    const inner = numel(shape.slice(axis + 1));
    const sums = new Float64Array(channels);
    for (let i = 0; i < q.length; i++) sums[Math.floor(i / inner) % channels] += q[i];
    const bias = a.b ? this.fpWeights.get(a.b)!.data : null;
    const givenBias = a.b && this.given ? this.given.weights.get(this.fpWeights.get(a.b)!.source) : undefined;
    if (givenWeight && a.b && !givenBias) throw new EdgespecError('int8-given-quantization', `the int8 weight ${fw.source} has a float bias ${this.fpWeights.get(a.b)!.source}`, 'convert the model with the TFLite converter\'s full-integer quantization (int32 biases)');
    const pout = this.rangeParams(a.y);
    const mults = new Int32Array(channels);
    const shifts = new Int8Array(channels);
    const qbias = new Int32Array(channels);
    // TFLite's int8 FULLY_CONNECTED rounds once ((acc * mult + half) >> (31 - shift)), its convolutions twice.
    const roundOnce = this.given !== undefined && step.kernel === 'gemm' && step.op === 'linear';
    for (let c = 0; c < channels; c++) {
      const exact: FixedMultiplier = fixedMultiplier((pin.scale * scales[c]) / pout.scale);
      const m = roundOnce ? singleRounding(exact) : exact;
      mults[c] = m.mult;
      shifts[c] = m.shift;
      const b = givenBias ? givenBias.values[c] : bias ? roundHalfAway(bias[c] / (pin.scale * scales[c])) : 0;
      qbias[c] = b - pin.zp * sums[c];
      if (qbias[c] !== (qbias[c] | 0)) throw new EdgespecError('int8-bias-overflow', `the folded int32 bias of ${fw.source}, channel ${c}, does not fit 32 bits`, 'the input zero point times the channel\'s weight sum is too large; requantize the model');
    }
    const module = fw.module;
    const wq = this.addWeight({ name: `${a.w}#s8`, source: fw.source, module, shape, packing, bytes: Buffer.from(q.buffer, q.byteOffset, q.byteLength), elementBytes: 1 });
    const bq = this.addWeight({ name: `${a.w}#bias`, source: a.b ? this.fpWeights.get(a.b)!.source : fw.source, module, shape: [channels], packing: 'int32 bias, input zero point folded', bytes: int32Bytes(qbias), elementBytes: 4 });
    const mq = this.addWeight({ name: `${a.w}#mult`, source: fw.source, module, shape: [channels], packing: 'int32 requantization multipliers', bytes: int32Bytes(mults), elementBytes: 4 });
    const sq = this.addWeight({ name: `${a.w}#shift`, source: fw.source, module, shape: [channels], packing: 'int8 requantization shifts', bytes: Buffer.from(shifts.buffer), elementBytes: 1 });
    const [lo, hi] = activationBounds(a.act.min, a.act.max, pout);
    const reads = [x, wq, bq, mq, sq];
    this.outputS8(a.y, pout, y => {
      if (step.kernel === 'gemm') {
        const g = step.args;
        this.steps.push({
          kernel: 'gemm_s8', from: step.from, op: step.op, reads, writes: [y], inPlace: [],
          call: p => `es_gemm_s8(${p.read(x)}, ${p.read(wq)}, ${p.read(bq)}, ${p.write(y)}, ${g.m}, ${g.k}, ${g.n}, ${pout.zp}, ${p.read(mq)}, ${p.read(sq)}, ${lo}, ${hi})`
        });
        return;
      }
      const c = step.args as Extract<KernelStep, { kernel: 'conv2d' }>['args'];
      const geometry = `${c.kh}, ${c.kw}, ${c.strideH}, ${c.strideW}, ${c.padTop}, ${c.padLeft}, ${c.dilationH}, ${c.dilationW}`;
      const depthwise = step.kernel === 'conv2d_depthwise';
      this.steps.push({
        kernel: depthwise ? 'conv2d_depthwise_s8' : 'conv2d_s8', from: step.from, op: step.op, reads, writes: [y], inPlace: [],
        call: p => `es_${depthwise ? 'conv2d_depthwise' : 'conv2d'}_s8(${p.read(x)}, ${shape4(c.is)}, ${pin.zp}, ${p.read(wq)}, ${p.read(bq)},\n      ${p.write(y)}, ${shape4(c.os)}, ${geometry}, ${depthwise ? '' : `${c.groups}, `}${pout.zp}, ${p.read(mq)}, ${p.read(sq)}, ${lo}, ${hi})`
      });
    }, step.from);
  }

  private add(step: Extract<KernelStep, { kernel: 'add' | 'sub' | 'mul' | 'div' }>): void {
    const s = step.args;
    const a = this.as(s.a, 's8', step.from);
    const b = this.as(s.b, 's8', step.from);
    const pa = this.params.get(a)!, pb = this.params.get(b)!;
    const pout = this.rangeParams(s.y);
    const twiceMax = 2 * Math.max(pa.scale, pb.scale);
    const ma = fixedMultiplier(pa.scale / twiceMax);
    const mb = fixedMultiplier(pb.scale / twiceMax);
    const mo = fixedMultiplier(twiceMax / (2 ** 20 * pout.scale));
    const [lo, hi] = activationBounds(s.act.min, s.act.max, pout);
    const count = numel(s.outShape);
    const inPlace = step.inPlace.filter(t => t === s.a || t === s.b).map(t => (t === s.a ? a : b)).filter(t => this.tensors.get(t)!.home === 'arena');
    this.outputS8(s.y, pout, y => this.steps.push({
      kernel: 'add_s8', from: step.from, op: step.op, reads: [a, b], writes: [y], inPlace: this.tensors.get(y)!.home === 'arena' ? inPlace : [],
      call: p => `es_add_s8(${p.read(a)}, ${pa.zp}, ${ma.mult}, ${ma.shift}, ${p.read(b)}, ${pb.zp}, ${mb.mult}, ${mb.shift},\n      ${p.write(y)}, ${count}, ${pout.zp}, ${mo.mult}, ${mo.shift}, ${lo}, ${hi})`
    }), step.from);
  }

  private pool(step: Extract<KernelStep, { kernel: 'max_pool2d' | 'avg_pool2d' }>): void {
    const s = step.args;
    if (this.given && !this.sameGivenParams(s.x, s.y)) return this.fallback(step);
    const x = this.as(s.x, 's8', step.from);
    const p = this.params.get(x)!;
    // TFLite averages the raw codes (same parameters in and out): a zero point of 0 gives its rounding exactly.
    const averageZp = this.given ? 0 : p.zp;
    const [lo, hi] = activationBounds(s.act.min, s.act.max, p);
    const common = `${s.kh}, ${s.kw}, ${s.strideH}, ${s.strideW}, ${s.padTop}, ${s.padLeft}`;
    this.outputS8(s.y, p, y => {
      if (step.kernel === 'max_pool2d') {
        const m = step.args;
        this.steps.push({
          kernel: 'max_pool2d_s8', from: step.from, op: step.op, reads: [x], writes: [y], inPlace: [],
          call: ptr => `es_max_pool2d_s8(${ptr.read(x)}, ${shape4(s.is)}, ${ptr.write(y)}, ${shape4(s.os)}, ${common}, ${m.dilationH}, ${m.dilationW}, ${lo}, ${hi})`
        });
      } else {
        const v = step.args;
        this.steps.push({
          kernel: 'avg_pool2d_s8', from: step.from, op: step.op, reads: [x], writes: [y], inPlace: [],
          call: ptr => `es_avg_pool2d_s8(${ptr.read(x)}, ${shape4(s.is)}, ${ptr.write(y)}, ${shape4(s.os)}, ${common}, ${v.padBottom}, ${v.padRight}, ${v.countIncludePad ? 1 : 0}, ${v.divisorOverride}, ${averageZp}, ${lo}, ${hi})`
        });
      }
    }, step.from);
  }

  private mean(step: Extract<KernelStep, { kernel: 'mean' }>): void {
    const s = step.args;
    const x = this.as(s.x, 's8', step.from);
    const pin = this.params.get(x)!;
    const pout = this.rangeParams(s.y);
    const m = this.given ? tfliteMeanMultiplier(pin.scale / pout.scale, s.reduce) : fixedMultiplier(pin.scale / (pout.scale * s.reduce));
    this.outputS8(s.y, pout, y => this.steps.push({
      kernel: 'mean_s8', from: step.from, op: step.op, reads: [x], writes: [y], inPlace: [],
      call: p => `es_mean_s8(${p.read(x)}, ${p.write(y)}, ${s.outer}, ${s.reduce}, ${s.inner}, ${pin.zp}, ${pout.zp}, ${m.mult}, ${m.shift})`
    }), step.from);
  }

  private concat(step: Extract<KernelStep, { kernel: 'concat' }>): void {
    const s = step.args;
    const xs = s.xs.map(t => this.as(t, 's8', step.from));
    const pout = this.rangeParams(s.y);
    const ps = xs.map(t => this.params.get(t)!);
    const ms = ps.map(p => (p.scale === pout.scale && p.zp === pout.zp ? { mult: 0, shift: 0 } : fixedMultiplier(p.scale / pout.scale)));
    this.outputS8(s.y, pout, y => this.steps.push({
      kernel: 'concat_s8', from: step.from, op: step.op, reads: xs, writes: [y], inPlace: [],
      call: p => `es_concat_s8((const int8_t *const[]){${xs.map(t => p.read(t)).join(', ')}}, ${ints(s.sizes)}, ${xs.length},\n      ${p.write(y)}, ${s.outer}, ${s.inner}, ${ints(ps.map(q => q.zp))}, ${ints(ms.map(m => m.mult))}, ${ints(ms.map(m => m.shift))}, ${pout.zp})`
    }), step.from);
  }
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

/**
 * A multiplier whose double rounding (es_requantize) gives TFLite's single rounding: the right
 * shift moves into the multiplier, so only the rounding of the high multiply is left. The
 * multiplier keeps 31 + shift bits (about 23 for a layer's usual shift of -8); the results
 * differ only where acc * mult lies within that precision of a rounding boundary.
 */
function singleRounding(m: FixedMultiplier): FixedMultiplier {
  return m.shift >= 0 ? m : { mult: Math.round(m.mult / 2 ** -m.shift), shift: 0 };
}

/**
 * The model's own int8 weights in the packed layout: the packed fp32 data holds
 * float32(scale[c] * q) (givenQuantization.realValues, re-laid by the packing), and dividing
 * by scale[c] gives q back exactly (|q| ≤ 127, float32 relative error ≤ 2^-24).
 */
function givenIntegers(data: Float32Array, shape: number[], axis: number, g: GivenWeight, name: string): { q: Int8Array; scales: Float64Array } {
  if (g.values instanceof Int32Array) throw new EdgespecError('int8-given-quantization', `weight ${name} is int32; the int8 kernels take int8 weights`, 'convert the model with int8 weights');
  if (g.zeroPoints.some(z => z !== 0)) throw new EdgespecError('int8-given-quantization', `weight ${name} has nonzero zero points; the int8 kernels take symmetric weights`, 'convert the model with the TFLite converter\'s int8 quantization (symmetric weights)');
  const channels = shape[axis];
  if (g.scales.length !== 1 && g.scales.length !== channels) throw new Error(`internal: weight ${name} has ${g.scales.length} scales for ${channels} channels`);
  const scales = Float64Array.from({ length: channels }, (_, c) => g.scales.length === 1 ? g.scales[0] : g.scales[c]);
  const inner = numel(shape.slice(axis + 1));
  const q = new Int8Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const exact = data[i] / scales[Math.floor(i / inner) % channels];
    q[i] = Math.round(exact);
    if (Math.abs(exact - q[i]) > 1e-3) throw new Error(`internal: packed weight ${name}[${i}] is not an integer multiple of its scale`);
  }
  return { q, scales };
}

/** A step's arguments with every tensor name (a string, or strings in arrays) renamed. */
function renameTensors<T>(args: T, swap: (t: string) => string): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(args as Record<string, unknown>)) {
    out[k] = typeof v === 'string' ? swap(v) : Array.isArray(v) ? v.map(e => (typeof e === 'string' ? swap(e) : e)) : v;
  }
  return out as T;
}

function floatLit(v: number): string {
  let text = String(Math.fround(v));
  if (!/[.eE]/.test(text)) text += '.0';
  return `${text}f`;
}
