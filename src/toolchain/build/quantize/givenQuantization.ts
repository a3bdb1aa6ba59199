// A bundle that carries its own quantization (an int8 .tflite: graph.json tensors with a
// `quantization`, int8 weights and int32 biases) → the fp32 graph the lowering passes and
// kernel selection work on, plus the parameters the int8 schedule must use as given.
//
// The fp32 view: int8 activations become float32 tensors with the same names; int8 / int32
// weights become their real values; the `quantize` node after a float32 input and the
// `dequantize` node before a float32 output disappear (the input tensor takes the parameters
// of what it was quantized to, the output tensor those of what was dequantized into it), so
// the quantizer quantizes the input and dequantizes the output at the image's edges exactly
// as the .tflite's QUANTIZE and DEQUANTIZE did.

import { Graph, GraphNode, GraphTensor, TensorQuantization } from '../../../common/types';
import { Bundle } from '../../bundle/loadBundle';
import { EdgespecError } from '../../errors';
import { unsupportedError, Unsupported } from '../unsupported';
import { WeightLookup, WeightTensor } from '../weightLookup';
import { numel } from '../shape';
import { QParams } from './params';

/** A weight's integers and their per-channel (or per-tensor) scales, as the model file gave them. */
export interface GivenWeight {
  scales: number[];
  zeroPoints: number[];
  axis: number;
  values: Int8Array | Int32Array;
}

export interface GivenQuantization {
  /** Activation tensors of the fp32 view → their int8 parameters. */
  activations: Map<string, QParams>;
  /** Weight tensors (bundle names) → their integers and scales. */
  weights: Map<string, GivenWeight>;
  /**
   * Activations the bundle holds in float32 without a quantization (a quantized ONNX model leaves some
   * ops in float): the steps that read or write them run in fp32.
   */
  floats: Set<string>;
  /** Where an int8 .tflite computes in float between its own DEQUANTIZE and QUANTIZE: the DEQUANTIZE outputs (held
   * here in int8 with their input's parameters) and the QUANTIZE inputs (held with their output's). An op reading
   * the first or writing the second ran in float, so a move of one to other parameters rounds, where TFLite's int8
   * byte movers copy codes as they are. */
  floatIsland?: { dequantized: Set<string>; quantized: Set<string> };
}

export interface FloatView {
  graph: Graph;
  weights: WeightLookup;
  given: GivenQuantization;
}

// What the bundle says about its quantization is read in bundle/ (inspect needs it too).
export { givenQuantizationSummary, hasGivenQuantization } from '../../bundle/quantization';

function activationParams(name: string, q: TensorQuantization): QParams {
  if (q.scale.length !== 1) {
    throw new EdgespecError('int8-given-quantization', `activation ${name} has ${q.scale.length} scales; the int8 build takes one scale per activation tensor`, 'convert the model with per-tensor activation quantization (the TFLite converter\'s default)');
  }
  return { scale: q.scale[0], zp: q.zero_point[0] };
}

function integers(w: WeightTensor, name: string): Int8Array | Int32Array {
  const copy = new Uint8Array(w.data.byteLength);
  copy.set(w.data);
  if (w.dtype === 'int8') return new Int8Array(copy.buffer);
  if (w.dtype === 'int32') return new Int32Array(copy.buffer);
  throw new EdgespecError('int8-given-quantization', `weight ${name} is ${w.dtype} with a quantization; quantized weights are int8 or int32`, 'capture the model again');
}

/** real = scale[c] * (q - zero_point[c]) along the axis, as float32 (what the fp32 kernels would read). */
function realValues(g: GivenWeight, shape: number[]): Float32Array {
  const inner = numel(shape.slice(g.axis + 1));
  const channels = g.scales.length;
  const out = new Float32Array(g.values.length);
  for (let i = 0; i < out.length; i++) {
    const c = channels === 1 ? 0 : Math.floor(i / inner) % channels;
    out[i] = g.scales[c] * (g.values[i] - g.zeroPoints[c]);
  }
  return out;
}

export function floatView(bundle: Bundle, target: string): FloatView {
  const { graph } = bundle;
  const activations = new Map<string, QParams>();
  const given = new Map<string, GivenWeight>();
  const rename = new Map<string, string>();
  const dropped = new Set<GraphNode>();
  const unsupported: Unsupported[] = [];
  const dequantizedNames: string[] = [], quantizedNames: string[] = [];
  const quantizationOf = (name: string) => graph.tensors[name]?.quantization;

  for (const node of graph.nodes) {
    if (node.op !== 'quantize' && node.op !== 'dequantize') continue;
    const [x] = node.inputs;
    const [y] = node.outputs;
    if (node.op === 'quantize' && quantizationOf(x) === undefined) {
      rename.set(y, x); // the float tensor is held in int8 with y's parameters
      quantizedNames.push(x);
      dropped.add(node);
    } else if (node.op === 'dequantize' && quantizationOf(y) === undefined) {
      rename.set(x, y); // the producer of x writes y, held in int8 with x's parameters
      dequantizedNames.push(y);
      dropped.add(node);
    } else {
      unsupported.push({ node: node.name, op: node.op, module: node.module, reason: 'an int8 → int8 requantization has no int8 kernel yet' });
    }
  }
  if (unsupported.length > 0) throw unsupportedError(unsupported, target);
  const renamed = (name: string): string => {
    let current = name;
    for (let hops = 0; rename.has(current) && hops < 8; hops++) current = rename.get(current)!;
    return current;
  };

  const tensors: Record<string, GraphTensor> = {};
  for (const [name, t] of Object.entries(graph.tensors)) {
    const { quantization, ...rest } = t;
    const target = renamed(name);
    if (quantization !== undefined && t.kind !== 'weight') {
      const p = activationParams(name, quantization);
      const earlier = activations.get(target);
      if (earlier && (earlier.scale !== p.scale || earlier.zp !== p.zp)) {
        throw new EdgespecError('int8-given-quantization', `tensor ${target} is quantized twice with different parameters`, 'convert the model again with the TFLite converter');
      }
      activations.set(target, p);
    }
    if (target !== name) continue; // the tensor it became is declared under its own name
    // int8 codes and int32 biases become their real values; an int32 without a quantization (an argmax result, indices) stays
    tensors[name] = { ...rest, dtype: t.dtype === 'int8' || (t.dtype === 'int32' && quantization !== undefined) ? 'float32' : t.dtype };
    if (quantization !== undefined && t.kind === 'weight') {
      const stored = bundle.weights.tensors.get(name);
      if (!stored) continue; // loadBundle has checked; graphToIr names the problem
      given.set(name, {
        scales: quantization.scale, zeroPoints: quantization.zero_point, axis: quantization.axis ?? 0,
        values: integers(stored, name)
      });
    }
  }
  const nodes = graph.nodes.filter(n => !dropped.has(n)).map(n => ({ ...n, inputs: n.inputs.map(renamed), outputs: n.outputs.map(renamed) }));
  const floats = new Set(Object.entries(tensors).filter(([name, t]) => t.kind !== 'weight' && !activations.has(name) && graph.tensors[name].dtype === 'float32').map(([name]) => name));
  const view: Graph = { ...graph, tensors, nodes };
  const weights: WeightLookup = name => {
    const g = given.get(name);
    if (!g) return bundle.weights.tensors.get(name);
    const real = realValues(g, graph.tensors[name].shape);
    return { dtype: 'float32', shape: [...graph.tensors[name].shape], data: new Uint8Array(real.buffer) };
  };
  return { graph: view, weights, given: { activations, weights: given, floats, floatIsland: {
    dequantized: new Set(dequantizedNames.map(renamed)), quantized: new Set(quantizedNames.map(renamed))
  } } };
}
