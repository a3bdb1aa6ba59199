// The int8 image's schedule: int8 (or conversion) steps that carry their own C call, mixed
// with fp32 steps that stayed fp32.

import { Provenance } from '../ir';
import { KernelStep, Schedule, ScheduledTensor } from '../schedule';
import { QParams } from './params';
/** Turns tensor names into C pointer expressions (emitModelSource's Pointers). */
export interface PointerNames {
  read(name: string): string;
  write(name: string): string;
  optional(name: string | null): string;
}

export type Dtype = 'f32' | 's8';

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

/**
 * For each output of the schedule, the scale of the int8 tensor it is dequantized from, or
 * undefined when an fp32 step writes it.
 */
export function outputQuantizationSteps(q: QuantizedSchedule): (number | undefined)[] {
  return q.outputs.map(io => {
    const writer = q.steps.find(s => s.writes.includes(io.tensor));
    if (!writer || writer.op !== 'dequantize' || writer.reads.length !== 1) return undefined;
    return q.dtypes.get(writer.reads[0]) === 's8' ? q.params.get(writer.reads[0])?.scale : undefined;
  });
}
