import { Graph, GraphNode } from '../../common/types';
import { EdgespecError } from '../errors';
import { opRuleOf } from '../ops/registry';
import { AttrReader } from './attrs';
import { Unsupported, unsupportedError } from './unsupported';
import { WeightLookup } from './weightLookup';
import { IrGraph, IrNode, IrTensor, MemoryLayout, Provenance, TensorRole } from './ir';
import { formatShape, numel, sameShape } from './shape';

export type { Unsupported } from './unsupported';
export { unsupportedError } from './unsupported';
export type { WeightLookup, WeightTensor } from './weightLookup';

/** ES_MAX_TENSORS of kernels/include/edgespec/model.h. */
const MAX_IO_TENSORS = 16;

/** The layout a graph tensor has in the framework: as declared, else by rank and framework. */
export function defaultLayout(shape: number[], declared: string | undefined, framework: string): MemoryLayout {
  if (shape.length !== 4) return 'plain';
  if (declared === 'NCHW' || declared === 'NHWC') return declared;
  return framework === 'pytorch' || framework === 'onnx' ? 'NCHW' : 'NHWC';
}

function bytesToFloat32(data: Uint8Array): Float32Array {
  // Copy so the result is aligned and owned, whatever buffer the reader sliced it from.
  const copy = new Uint8Array(data.byteLength);
  copy.set(data);
  return new Float32Array(copy.buffer);
}

/** An int32 / int64 constant (an operand of integer arithmetic), held as float32 numbers: exact below 2^24. */
function loadIntegerWeight(name: string, declared: number[], dtype: 'int32' | 'int64', weights: WeightLookup): Float32Array {
  const w = weights(name);
  const size = dtype === 'int64' ? 8 : 4;
  if (!w || !sameShape(w.shape, declared) || w.data.byteLength !== numel(declared) * size) {
    throw new EdgespecError('bad-bundle', `weight ${name} (${dtype}${formatShape(declared)}) is missing from weights.safetensors or has another shape`, 'capture the model again; graph.json and weights.safetensors disagree');
  }
  const view = new DataView(w.data.buffer, w.data.byteOffset, w.data.byteLength);
  const values = new Float32Array(numel(declared));
  for (let i = 0; i < values.length; i++) {
    const v = dtype === 'int64' ? Number(view.getBigInt64(i * 8, true)) : view.getInt32(i * 4, true);
    if (Math.abs(v) > 2 ** 24) throw new EdgespecError('unsupported-dtype', `integer weight ${name} holds ${v}; the build takes integer constants up to 2^24 in magnitude`, 'keep integer constants small');
    values[i] = v;
  }
  return values;
}

function loadWeight(name: string, declared: number[], weights: WeightLookup): Float32Array {
  const w = weights(name);
  if (!w) {
    throw new EdgespecError('bad-bundle', `weight ${name} is in graph.json but not in weights.safetensors`, 'capture the model again; the bundle is incomplete');
  }
  const dtype = w.dtype.toLowerCase();
  if (dtype !== 'f32' && dtype !== 'float32') {
    throw new EdgespecError('unsupported-dtype', `weight ${name} is ${w.dtype}; this build supports float32 weights only`, 'convert the model to float32 before capturing it (model.float())');
  }
  if (!sameShape(w.shape, declared) || w.data.byteLength !== numel(declared) * 4) {
    throw new EdgespecError('bad-bundle', `weight ${name} has shape ${formatShape(w.shape)} in weights.safetensors but ${formatShape(declared)} in graph.json`, 'capture the model again; graph.json and weights.safetensors disagree');
  }
  return bytesToFloat32(w.data);
}

function toTypedNode(node: GraphNode, prov: Provenance): IrNode | string {
  const a = new AttrReader(node.name, node.op, node.attrs);
  const rule = opRuleOf(node.op);
  if (!rule?.toIr) return 'no kernel implements this op';
  return rule.toIr(node, a, { ...prov, inputs: [...node.inputs], outputs: [...node.outputs] });
}

function roleOf(kind: string): TensorRole {
  return kind === 'weight' ? 'weight' : kind === 'input' ? 'input' : kind === 'output' ? 'output' : 'activation';
}

const isInteger = (dtype: string) => dtype === 'int32' || dtype === 'int64';

/**
 * Where integer tensors may appear: the indices of a take, the result of an argmax / argmin
 * (stored through an index_cast), add / sub / mul whose tensors are all one integer dtype,
 * and a reshape of an integer tensor. Anything else: the reason it cannot be built.
 */
function integerProblem(node: IrNode, graph: Graph): string | undefined {
  const dtypeOf = (t: string) => graph.tensors[t].dtype;
  const floats = (names: string[]) => names.find(t => dtypeOf(t) !== 'float32');
  const same = (names: string[]) => names.every(t => isInteger(dtypeOf(t)) && dtypeOf(t) === dtypeOf(names[0]));
  const all = [...node.inputs, ...node.outputs];
  let bad: string | undefined;
  if (node.op === 'take') bad = floats([node.inputs[0], ...node.outputs]) ?? (isInteger(dtypeOf(node.inputs[1])) ? undefined : node.inputs[1]);
  else if (node.op === 'argmax' || node.op === 'argmin') bad = floats(node.inputs) ?? (['float32', 'int32', 'int64'].includes(dtypeOf(node.outputs[0])) ? undefined : node.outputs[0]);
  else if ((node.op === 'add' || node.op === 'sub' || node.op === 'mul' || node.op === 'reshape') && floats(all) !== undefined) {
    if (!same(all)) bad = floats(all);
    else if (node.op !== 'reshape' && (node.attrs as { scalar?: number }).scalar !== undefined) bad = node.outputs[0];
  } else bad = floats(all);
  if (bad === undefined) return undefined;
  return node.op === 'take' && bad === node.inputs[1]
    ? `its indices ${bad} are ${dtypeOf(bad)}; they must be int32 or int64`
    : `tensor ${bad} is ${dtypeOf(bad)}, and only float32 kernels exist${isInteger(dtypeOf(bad)) ? ' for this op (integers: take indices, argmax/argmin results, add, sub, mul, reshape)' : ''}`;
}

/** An argmax / argmin with an integer result computes a float32 index, then index_cast stores it. */
function withIndexCast(node: IrNode, graph: Graph, casts: Map<string, string>): IrNode[] {
  if (node.op !== 'argmax' && node.op !== 'argmin') return [node];
  const y = node.outputs[0];
  const dtype = graph.tensors[y].dtype;
  if (dtype !== 'int32' && dtype !== 'int64') return [node];
  const float = `${y}:index`;
  casts.set(y, float);
  const cast: IrNode = { name: `${node.name}.cast`, module: node.module, frameworkOps: node.frameworkOps, ...(node.source ? { source: node.source } : {}), op: 'index_cast', inputs: [float], outputs: [y], attrs: { to: dtype } };
  return [{ ...node, outputs: [float] }, cast];
}

/**
 * graph.json + weights → IR. Collects every unsupported op and dtype and throws them
 * together, so a user sees the whole list at once.
 */
export function graphToIr(graph: Graph, weights: WeightLookup, target: string): IrGraph {
  const tensors = new Map<string, IrTensor>();
  const referenced = new Set<string>();
  for (const n of graph.nodes) for (const t of [...n.inputs, ...n.outputs]) referenced.add(t);
  for (const io of [...graph.inputs, ...graph.outputs]) referenced.add(io.tensor);

  const unsupported: Unsupported[] = [];
  const nodes: IrNode[] = [];
  const indexCasts = new Map<string, string>();
  for (const node of graph.nodes) {
    for (const t of [...node.inputs, ...node.outputs]) {
      if (!graph.tensors[t]) {
        throw new EdgespecError('bad-graph', `node ${node.name} uses tensor ${t}, which graph.json does not declare`, 'capture the model again; graph.json is inconsistent');
      }
    }
    const prov: Provenance = { name: node.name, module: node.module, frameworkOps: [...node.framework_ops], ...(node.source ? { source: node.source } : {}) };
    const typed = toTypedNode(node, prov);
    if (typeof typed === 'string') {
      unsupported.push({ node: node.name, op: node.op, module: node.module, reason: typed });
      continue;
    }
    const badDtype = integerProblem(typed, graph);
    if (badDtype) {
      unsupported.push({ node: node.name, op: node.op, module: node.module, reason: badDtype });
      continue;
    }
    nodes.push(...withIndexCast(typed, graph, indexCasts));
  }
  if (unsupported.length > 0) throw unsupportedError(unsupported, target);

  for (const name of [...referenced].sort()) {
    const t = graph.tensors[name];
    if (!t) throw new EdgespecError('bad-graph', `tensor ${name} is used but not declared in graph.json`, 'capture the model again; graph.json is inconsistent');
    const role = roleOf(t.kind);
    const tensor: IrTensor = {
      name,
      shape: [...t.shape],
      role,
      layout: role === 'weight' ? 'plain' : defaultLayout(t.shape, t.layout, graph.source.framework),
      ...(t.module !== undefined ? { module: t.module } : {})
    };
    if (t.dtype === 'int32' || t.dtype === 'int64') {
      if (role === 'weight') tensor.data = loadIntegerWeight(name, t.shape, t.dtype, weights);
      // indices keep the framework's row-major order: no layout pass moves them
      tensor.dtype = t.dtype;
      tensor.layout = 'plain';
    } else if (role === 'weight') {
      tensor.data = loadWeight(name, t.shape, weights);
    }
    tensors.set(name, tensor);
  }
  for (const [integer, float] of indexCasts) {
    const { shape, module } = tensors.get(integer)!;
    tensors.set(float, { name: float, shape: [...shape], role: 'activation', layout: defaultLayout(shape, undefined, graph.source.framework), ...(module !== undefined ? { module } : {}) });
  }
  for (const io of graph.inputs) {
    if (io.dtype !== 'float32' && io.dtype !== 'int32' && io.dtype !== 'int64') {
      throw unsupportedError([{ node: io.name, op: 'input', module: '', reason: `input dtype ${io.dtype}; the image takes float32, and int32 or int64 indices` }], target);
    }
    const t = tensors.get(io.tensor)!;
    t.role = 'input';
  }
  for (const [kind, list] of [['inputs', graph.inputs], ['outputs', graph.outputs]] as const) {
    if (list.length > MAX_IO_TENSORS) {
      throw new EdgespecError('unsupported-graph', `the model has ${list.length} ${kind}; an image takes at most ${MAX_IO_TENSORS} (ES_MAX_TENSORS in kernels/include/edgespec/model.h)`, `combine ${kind} into fewer tensors in the model`);
    }
  }
  const outputOf = new Map<string, string>();
  for (const io of graph.outputs) {
    const earlier = outputOf.get(io.tensor);
    if (earlier !== undefined) {
      throw new EdgespecError('unsupported-graph', `outputs ${earlier} and ${io.name} are the same tensor ${io.tensor}`, 'return that tensor once from the model');
    }
    outputOf.set(io.tensor, io.name);
    const t = tensors.get(io.tensor)!;
    if (t.role === 'weight' || t.role === 'input') {
      throw new EdgespecError('unsupported-graph', `output ${io.name} is the ${t.role} ${io.tensor} itself, not something the model computes`, 'return a computed tensor from the model');
    }
    t.role = 'output';
  }
  return {
    name: graph.name,
    inputs: graph.inputs.map(io => ({ name: io.name, tensor: io.tensor })),
    outputs: graph.outputs.map(io => ({ name: io.name, tensor: io.tensor })),
    tensors,
    nodes
  };
}
