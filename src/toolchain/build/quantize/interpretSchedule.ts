// A float32 interpreter of an fp32 schedule (the kernels' own semantics and weight
// layouts, each kernel's reference in its op module), used to observe activation ranges for
// calibration. Plain loops: MobileNetV2 takes about a second per input.

import { kernelOf } from '../../ops/registry';
import { KernelStep, PackedWeight, Schedule } from '../schedule';

type Tensors = Map<string, Float32Array>;

function run(step: KernelStep, get: (name: string) => Float32Array, weights: Map<string, PackedWeight>): Float32Array[] {
  const w = (name: string | null) => (name === null ? null : weights.get(name)?.data ?? get(name));
  return kernelOf(step.kernel).reference(step, get, w);
}

/**
 * Runs the schedule on each input set and returns every activation tensor's observed
 * [min, max] over all of them.
 */
export function observeRanges(schedule: Schedule, inputSets: Float32Array[][]): Map<string, { min: number; max: number }> {
  const weights = new Map(schedule.weights.map(w => [w.name, w]));
  const ranges = new Map<string, { min: number; max: number }>();
  for (const inputs of inputSets) {
    const values: Tensors = new Map();
    schedule.inputs.forEach((io, i) => values.set(io.tensor, inputs[i]));
    const get = (name: string) => {
      const v = values.get(name);
      if (!v) throw new Error(`internal: calibration reads ${name} before it is computed`);
      return v;
    };
    for (const step of schedule.steps) {
      const outs = run(step, get, weights);
      step.writes.forEach((name, i) => values.set(name, outs[i]));
    }
    for (const [name, v] of values) {
      let lo = Infinity, hi = -Infinity;
      for (let i = 0; i < v.length; i++) { if (v[i] < lo) lo = v[i]; if (v[i] > hi) hi = v[i]; }
      const r = ranges.get(name);
      ranges.set(name, r ? { min: Math.min(r.min, lo), max: Math.max(r.max, hi) } : { min: lo, max: hi });
    }
  }
  return ranges;
}
