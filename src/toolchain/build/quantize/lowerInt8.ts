import { Bundle } from '../../bundle/loadBundle';
import { EdgespecError } from '../../errors';
import { graphToIr } from '../graphToIr';
import { LoweredModel, planSchedule, runPasses } from '../lowerModel';
import { Schedule } from '../schedule';
import { BoundState } from '../state';
import { selectKernels } from '../selectKernel';
import { layoutRawWeights } from './blob';
import { referenceInputs, userCalibrationInputs } from './calibrationInputs';
import { emitInt8ModelSource } from './emitInt8Source';
import { floatView, givenQuantizationSummary, hasGivenQuantization } from './givenQuantization';
import { observeRanges } from './interpretSchedule';
import { QuantizedSchedule, quantizeSchedule, Ranges } from './quantizeSchedule';

export interface Int8Options {
  /** --calibration: a .safetensors file or a directory of .npy files. */
  calibration?: string;
  producer: string;
  /** A profiling build: a counter mark after each step (edgespec/profile.h). */
  profile?: boolean;
  /** A debug build: the model dumps every tensor a step writes (edgespec/debug_tensors.h). */
  debugTensors?: boolean;
  log?: (message: string) => void;
  progress?: (stage: string, done: number, total: number, detail?: string) => void;
  /** A streaming model's state, already turned into the bundle graph's last inputs and outputs (bindState). */
  state?: BoundState;
}

export interface LoweredInt8 extends LoweredModel {
  quantized: QuantizedSchedule;
}

/**
 * `edgespec build --dtype int8`: the fp32 lowering, activation ranges (the bundle's
 * calibration field, else observed on the reference input plus the user's set), then the
 * int8 schedule, its plan, blob and model.c. A bundle with its own quantization (an int8
 * .tflite) is lowered with its parameters as given instead (lowerGivenInt8).
 */
export async function lowerInt8(bundle: Bundle, target: string, options: Int8Options): Promise<LoweredInt8> {
  if (hasGivenQuantization(bundle.graph)) return lowerGivenInt8(bundle, target, options);
  const ir = runPasses(graphToIr(bundle.graph, name => bundle.weights.tensors.get(name), target));
  const fp = selectKernels(ir, target);
  const ranges: Ranges = new Map();
  const given = bundle.graph.calibration ?? {};
  const needed = [...fp.tensors.keys()].filter(t => fp.tensors.get(t)!.home !== 'input');
  if (needed.some(t => !(t in given))) {
    const sets = [referenceInputs(bundle), ...(options.calibration ? await userCalibrationInputs(options.calibration, bundle) : [])];
    options.progress?.('calibrate', 0, sets.length, `running the fp32 schedule on ${sets.length} calibration input${sets.length === 1 ? '' : 's'}`);
    for (const [k, v] of observeRanges(fp, sets)) ranges.set(k, v);
    options.progress?.('calibrate', sets.length, sets.length);
  }
  for (const [k, v] of Object.entries(given)) ranges.set(k, v);
  const quantized = quantizeSchedule(fp, ranges);
  const notes = [`int8: post-training static quantization; activation ranges from ${Object.keys(given).length > 0 ? "the bundle's calibration field" : ''}${ranges.size > Object.keys(given).length ? `${Object.keys(given).length > 0 ? ' and ' : ''}the fp32 schedule run on the calibration inputs` : ''}`];
  if (quantized.fallbacks.length > 0) {
    notes.push(`int8: ${quantized.fallbacks.length} step(s) have no int8 kernel and run in fp32 between dequantize and quantize: ${quantized.fallbacks.join(', ')}`);
  }
  return finish(ir, quantized, notes, options);
}

/** A bundle with its own quantization (an int8 .tflite): its parameters as given, no calibration. */
function lowerGivenInt8(bundle: Bundle, target: string, options: Int8Options): LoweredInt8 {
  if (options.calibration) {
    throw new EdgespecError('int8-given-quantization', `${bundle.graph.name} carries its own quantization (from its ${bundle.graph.source.framework} model), so --calibration does not apply`, 'build without --calibration; the model\'s scales and zero points are used as given');
  }
  const view = floatView(bundle, target);
  const ir = runPasses(graphToIr(view.graph, view.weights, target));
  const quantized = quantizeSchedule(selectKernels(ir, target), new Map(), view.given);
  const count = givenQuantizationSummary(bundle.graph);
  const notes = [`int8: quantization given by the bundle (${bundle.graph.source.framework}): ${count.activations} activation tensors, ${count.weights} weights (${count.perChannelWeights} per channel); no calibration`];
  if (quantized.fallbacks.length > 0) {
    notes.push(`int8: ${quantized.fallbacks.length} step(s) have no int8 kernel and run in fp32 between dequantize and quantize (with the model's parameters): ${quantized.fallbacks.join(', ')}`);
  }
  return finish(ir, quantized, notes, options);
}

function finish(ir: LoweredInt8['ir'], quantized: QuantizedSchedule, notes: string[], options: Int8Options): LoweredInt8 {
  notes.forEach(n => options.log?.(n));
  const schedule = { ...quantized, steps: quantized.steps } as unknown as Schedule;
  const plan = planSchedule(schedule);
  const blob = layoutRawWeights(quantized.weights);
  const source = emitInt8ModelSource(quantized, plan, blob, options.producer, { profile: options.profile, debugTensors: options.debugTensors, state: options.state });
  return { ir, schedule, plan, blob, source, notes, quantized };
}
