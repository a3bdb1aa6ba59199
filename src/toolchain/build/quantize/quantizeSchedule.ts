// fp32 schedule + activation ranges → a mixed schedule: int8 kernels where one exists,
// fp32 kernels (with dequantize / quantize around them) elsewhere. The image keeps fp32
// inputs and outputs: the graph input is quantized inside the image, outputs dequantized.
// With given quantization (an int8 .tflite, givenQuantization.ts) every tensor keeps the
// model's own parameters and weights its own integers and biases, and each op rounds as
// TFLite's int8 kernel does.

import { EdgespecError } from '../../errors';
import { Int8Context } from '../../ops/opModule';
import { kernelOf } from '../../ops/registry';
import { Provenance } from '../ir';
import { KernelStep, PackedWeight, Schedule, ScheduledTensor } from '../schedule';
import { numel } from '../shape';
import { integerBytes } from '../weightsBlob';
import { activationParams, QParams } from './params';
import { GivenQuantization } from './givenQuantization';
import { Dtype, Int8Step, isInt8Step, MixedStep, PointerNames, QuantizedSchedule, RawWeight } from './mixedSchedule';

export type { Dtype, Int8Step, MixedStep, PointerNames, QuantizedSchedule, RawWeight };
export { isInt8Step };

export type Ranges = Map<string, { min: number; max: number }>;

function floatBytes(values: Float32Array): Buffer {
  const b = Buffer.alloc(values.length * 4);
  for (let i = 0; i < values.length; i++) b.writeFloatLE(values[i], i * 4);
  return b;
}

/** `given`: the bundle's own quantization; then `ranges` are not used. */
export function quantizeSchedule(fp: Schedule, ranges: Ranges, given?: GivenQuantization): QuantizedSchedule {
  return new Quantizer(fp, ranges, given).run();
}

/** kernels_int8.h's ES_S8_PACK_SLOTS: pack slots 1 to this; a test reads the header. */
export const PACK_SLOTS = 4096;

class Quantizer implements Int8Context {
  private readonly steps: MixedStep[] = [];
  private readonly tensors = new Map<string, ScheduledTensor>();
  private readonly weights = new Map<string, RawWeight>();
  private readonly dtypes = new Map<string, Dtype>();
  private readonly params = new Map<string, QParams>();
  private readonly converted = new Map<string, string>();
  private readonly fallbacks: string[] = [];
  private readonly packSlots = new Map<string, number>();
  readonly fpWeights: Map<string, PackedWeight>;

  constructor(private readonly fp: Schedule, private readonly ranges: Ranges, readonly given?: GivenQuantization) {
    this.fpWeights = new Map(fp.weights.map(w => [w.name, w]));
  }

  run(): QuantizedSchedule {
    if (this.given) this.followLayoutChanges(this.given);
    for (const [name, t] of this.fp.tensors) if (t.home !== 'arena') this.register(name, 'f32', name);
    for (const step of this.fp.steps) this.lower(step);
    return {
      model: this.fp.model, steps: this.steps, tensors: this.tensors, weights: [...this.weights.values()],
      inputs: this.fp.inputs, outputs: this.fp.outputs, dtypes: this.dtypes, params: this.params, fallbacks: this.fallbacks
    };
  }

  shapeOf(name: string): number[] {
    const t = this.fp.tensors.get(name) ?? this.fp.tensors.get(name.replace(/#(s8|f32|f32pre)$/, ''));
    if (!t) throw new Error(`internal: no tensor ${name} in the fp32 schedule`);
    return t.shape;
  }

  private register(name: string, dtype: Dtype, like: string): string {
    const fpT = this.fp.tensors.get(like)!;
    const home = name === like ? fpT.home : 'arena';
    this.tensors.set(name, {
      name, shape: [...fpT.shape], bytes: dtype === 's8' ? numel(fpT.shape) : fpT.bytes, home,
      ...(home !== 'arena' && fpT.ioIndex !== undefined ? { ioIndex: fpT.ioIndex } : {})
    });
    this.dtypes.set(name, dtype);
    return name;
  }

  /**
   * The layout pass's conversions (NAME:nhwc, an NCHW model's input or a value a plain op reads) hold the
   * same values as their source: its given parameters, or its float32.
   */
  private followLayoutChanges(given: GivenQuantization): void {
    for (const step of this.fp.steps) {
      if (!step.from.frameworkOps.includes('edgespec.layout') || step.reads.length !== 1 || step.writes.length !== 1) continue;
      const [x] = step.reads;
      const [y] = step.writes;
      const p = given.activations.get(x);
      if (p && !given.activations.has(y)) given.activations.set(y, p);
      if (given.floats.has(x)) given.floats.add(y);
    }
  }

  rangeParams(name: string): QParams {
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
  as(name: string, want: Dtype, from: Provenance): string {
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
  outputS8(y: string, p: QParams, then: (target: string) => void, from: Provenance): void {
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
  sameGivenParams(x: string, y: string): boolean {
    const a = this.given!.activations.get(x), b = this.given!.activations.get(y);
    return a !== undefined && b !== undefined && a.scale === b.scale && a.zp === b.zp;
  }

  packSlot(constants: readonly string[]): number {
    const key = constants.join('\u0000');
    let slot = this.packSlots.get(key);
    if (slot === undefined) {
      slot = this.packSlots.size + 1 <= PACK_SLOTS ? this.packSlots.size + 1 : 0;
      this.packSlots.set(key, slot);
    }
    return slot;
  }

  addWeight(w: RawWeight): string {
    if (!this.weights.has(w.name)) this.weights.set(w.name, w);
    return w.name;
  }

  private lower(step: KernelStep): void {
    const lowering = kernelOf(step.kernel).int8;
    if (lowering && !this.touchesGivenFloat(step)) lowering(step, this);
    else this.fallback(step);
  }

  /** Given quantization: the step reads or writes an activation the model computes in float. */
  private touchesGivenFloat(step: KernelStep): boolean {
    const floats = this.given?.floats;
    return floats !== undefined && floats.size > 0 && [...step.reads, ...step.writes].some(t => floats.has(t));
  }

  paramsOf(name: string): QParams {
    return this.params.get(name)!;
  }

  dtypeOf(name: string): Dtype | undefined {
    return this.dtypes.get(name);
  }

  homeOf(name: string): 'arena' | 'input' | 'output' | undefined {
    return this.tensors.get(name)?.home;
  }

  fpHomeOf(name: string): 'arena' | 'input' | 'output' | undefined {
    return this.fp.tensors.get(name)?.home;
  }

  hold(name: string, dtype: Dtype, params?: QParams): void {
    this.register(name, dtype, name);
    if (params) this.params.set(name, params);
  }

  push(step: MixedStep): void {
    this.steps.push(step);
  }

  dequantizeInto(x: string, y: string, from: Provenance): void {
    const p = this.params.get(x)!;
    const count = numel(this.shapeOf(y));
    this.register(y, 'f32', y);
    this.steps.push({
      kernel: 'dequantize_s8', from, op: 'dequantize', reads: [x], writes: [y], inPlace: [],
      call: ptr => `es_dequantize_s8(${ptr.read(x)}, ${ptr.write(y)}, ${count}, ${floatLit(p.scale)}, ${p.zp})`
    });
  }

  /** An fp32 step as is, its activation inputs dequantized first. */
  fallback(step: KernelStep): void {
    const rename = new Map<string, string>();
    for (const r of step.reads) {
      if (this.fpWeights.has(r)) {
        const w = this.fpWeights.get(r)!;
        this.addWeight({ name: w.name, source: w.source, module: w.module, shape: w.shape, packing: w.dtype ? `${w.packing} (${w.dtype})` : `${w.packing} (fp32)`,
          bytes: w.dtype ? integerBytes(w.data, w.dtype) : floatBytes(w.data), elementBytes: w.dtype === 'int64' ? 8 : 4 });
      } else {
        rename.set(r, this.as(r, 'f32', step.from));
      }
    }
    if (step.kernel !== 'alias' && step.kernel !== 'copy' && step.kernel !== 'transpose') this.fallbacks.push(`${step.op} (${step.from.module || step.from.name})`);
    // Given quantization: the model holds this result in int8, so it is rounded to its parameters as the model's would be.
    // The unrounded result is y#f32pre; a later fp32 reader of y gets y#f32, dequantized from the rounded int8 y.
    const rounded = this.given ? step.writes.filter(y => this.given!.activations.has(y) && step.kernel !== 'alias') : [];
    for (const y of step.writes) this.register(rounded.includes(y) ? `${y}#f32pre` : y, 'f32', y);
    for (const y of rounded) rename.set(y, `${y}#f32pre`);
    if (rename.size === 0 || [...rename].every(([k, v]) => k === v)) { this.steps.push(step); return; }
    const swap = (t: string) => rename.get(t) ?? t;
    const inPlace = step.inPlace.map(swap).filter(t => !rounded.some(y => t === `${y}#f32pre`));
    this.steps.push({ ...step, reads: step.reads.map(swap), writes: step.writes.map(swap), inPlace, args: renameTensors(step.args, swap) } as KernelStep);
    for (const y of rounded) {
      const f = `${y}#f32pre`;
      const p = this.rangeParams(y);
      const count = numel(this.shapeOf(y));
      this.outputS8(y, p, target => this.steps.push({
        kernel: 'quantize_s8', from: step.from, op: 'quantize', reads: [f], writes: [target], inPlace: [],
        call: ptr => `es_quantize_s8(${ptr.read(f)}, ${ptr.write(target)}, ${count}, ${floatLit(1 / p.scale)}, ${p.zp})`
      }), step.from);
    }
  }
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
