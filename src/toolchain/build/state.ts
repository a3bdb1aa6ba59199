import { Graph } from '../../common/types';
import { floatLiteral } from '../ops/cText';
import { EdgespecError } from '../errors';
import { WeightLookup } from './weightLookup';

/**
 * How one of the model's state values (graph.state, a streaming model's variables) is carried
 * between invocations: the image keeps it in a static buffer that the schedule reads as an
 * extra input, and after each invocation copies the value it ends as back into that buffer.
 */
export interface StateBinding {
  name: string;
  bytes: number;
  /** The schedule input that reads the buffer (after the model's own inputs). */
  inputIndex: number;
  /** Where the value it ends as is after an invocation: a model output, a model input, an extra schedule output, or nowhere (never assigned). */
  source: { kind: 'output' | 'input' | 'extra'; index: number } | { kind: 'unchanged' };
  /** Its value before the first invocation and after es_model_reset. */
  initial: Float32Array;
}

/** The graph the build lowers (state reads as extra inputs, state results as extra outputs) and how the image wraps it. */
export interface BoundState {
  graph: Graph;
  bindings: StateBinding[];
  modelInputs: number;
  modelOutputs: number;
}

/**
 * Turns graph.state into plain I/O for the lowering, so the schedule, the planner and every
 * kernel see a stateless model: the model code (emitStateWrapper) supplies the extra inputs
 * from its state buffers and copies the extra outputs back.
 */
export function bindState(graph: Graph, weights: WeightLookup): BoundState {
  const records = graph.state ?? [];
  const bound: BoundState = { graph, bindings: [], modelInputs: graph.inputs.length, modelOutputs: graph.outputs.length };
  if (records.length === 0) return bound;
  const tensors = { ...graph.tensors };
  const inputs = [...graph.inputs];
  const outputs = [...graph.outputs];
  const reads = new Set(records.map(r => r.read));
  for (const [k, record] of records.entries()) {
    const read = graph.tensors[record.read];
    if (read.dtype !== 'float32') {
      throw new EdgespecError('unsupported-graph', `state '${record.name}' is ${read.dtype}; an image keeps float32 state only`, 'convert the streaming model with float32 variables');
    }
    tensors[record.read] = { ...read, kind: 'input' };
    inputs.push({ name: `state${k}`, tensor: record.read, shape: [...read.shape], dtype: 'float32', layout: read.layout ?? 'plain' } as Graph['inputs'][number]);
    bound.bindings.push({
      name: record.name,
      bytes: read.shape.reduce((a, b) => a * b, 1) * 4,
      inputIndex: inputs.length - 1,
      source: stateSource(record.name, record.write, record.read, graph, reads, outputs, tensors),
      initial: initialValue(record.name, record.initial, weights)
    });
  }
  bound.graph = { ...graph, tensors, inputs, outputs };
  return bound;
}

function stateSource(name: string, write: string, read: string, graph: Graph, reads: Set<string>, outputs: Graph['outputs'], tensors: Graph['tensors']): StateBinding['source'] {
  if (write === read) return { kind: 'unchanged' };
  if (reads.has(write)) {
    throw new EdgespecError('unsupported-graph', `state '${name}' ends as the value another state started with; an image cannot swap state values yet`, 'assign each variable a value the model computes');
  }
  const output = graph.outputs.findIndex(io => io.tensor === write);
  if (output >= 0) return { kind: 'output', index: output };
  const input = graph.inputs.findIndex(io => io.tensor === write);
  if (input >= 0) return { kind: 'input', index: input };
  const existing = outputs.findIndex(io => io.tensor === write);
  if (existing >= 0) return { kind: 'extra', index: existing };
  const tensor = graph.tensors[write];
  tensors[write] = { ...tensor, kind: 'output' };
  outputs.push({ name: `state_next${outputs.length}`, tensor: write, shape: [...tensor.shape], dtype: tensor.dtype, layout: tensor.layout ?? 'plain' } as Graph['outputs'][number]);
  return { kind: 'extra', index: outputs.length - 1 };
}

function initialValue(name: string, weight: string, weights: WeightLookup): Float32Array {
  const w = weights(weight);
  if (!w || (w.dtype.toLowerCase() !== 'f32' && w.dtype.toLowerCase() !== 'float32')) {
    throw new EdgespecError('bad-bundle', `the initial value of state '${name}' (weight ${weight}) is missing from weights.safetensors or not float32`, 'capture the model again; the bundle is incomplete');
  }
  const copy = new Uint8Array(w.data.byteLength);
  copy.set(w.data);
  return new Float32Array(copy.buffer);
}

/**
 * The C that carries state between invocations: the buffers, es_model_reset, and the lines
 * es_model_invoke opens and closes with. `pointer` is the schedule's I/O pointer type.
 */
export function emitStateWrapper(bound: BoundState, inputCount: number, outputCount: number): { globals: string; prologue: string[]; epilogue: string[] } {
  const b = bound.bindings;
  const globals: string[] = ['/* The model\'s state (graph.state), kept between invocations; es_model_reset puts back its initial value. */'];
  const reset: string[] = [];
  b.forEach((s, k) => {
    const floats = s.bytes / 4;
    globals.push(`static float es_state_${k}[${floats}] __attribute__((aligned(64))); /* ${s.name.replace(/\*\//g, '* /').replace(/[\r\n]/g, ' ')} */`);
    if (s.source.kind === 'extra') globals.push(`static float es_state_next_${k}[${floats}] __attribute__((aligned(64)));`);
    if (s.initial.some(v => v !== 0)) {
      globals.push(`static const float es_state_initial_${k}[${floats}] = {${Array.from(s.initial, floatLiteral).join(', ')}};`);
      reset.push(`  __builtin_memcpy(es_state_${k}, es_state_initial_${k}, sizeof es_state_${k});`);
    } else {
      reset.push(`  __builtin_memset(es_state_${k}, 0, sizeof es_state_${k});`);
    }
  });
  globals.push('static int es_state_set;', '', 'void es_model_reset(void) {', ...reset, '  es_state_set = 1;', '}');
  const inputList = Array.from({ length: inputCount }, (_, i) => {
    const s = b.findIndex(x => x.inputIndex === i);
    return s >= 0 ? `es_state_${s}` : `model_inputs[${i}]`;
  });
  const outputList = Array.from({ length: outputCount }, (_, i) => {
    const s = b.findIndex(x => x.source.kind === 'extra' && x.source.index === i && i >= bound.modelOutputs);
    return s >= 0 ? `es_state_next_${s}` : `model_outputs[${i}]`;
  });
  const prologue = [
    '  if (!es_state_set) es_model_reset();',
    `  const float *const inputs[${inputCount}] = {${inputList.join(', ')}};`,
    `  float *const outputs[${outputCount}] = {${outputList.join(', ')}};`
  ];
  const epilogue = b.flatMap((s, k) => {
    if (s.source.kind === 'unchanged') return [];
    const from = s.source.kind === 'output' ? `model_outputs[${s.source.index}]` : s.source.kind === 'input' ? `model_inputs[${s.source.index}]` : `outputs[${s.source.index}]`;
    return [`  __builtin_memcpy(es_state_${k}, ${from}, sizeof es_state_${k});`];
  });
  return { globals: globals.join('\n'), prologue, epilogue };
}
