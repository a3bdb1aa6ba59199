import { Graph, GraphNode } from '../../common/types';
import { EdgespecError } from '../errors';
import { AttrReader } from './attrs';
import { IrGraph, IrNode, IrTensor, MemoryLayout, Provenance, TensorRole } from './ir';
import { formatShape, numel, sameShape } from './shape';

/** One tensor of weights.safetensors, as the bundle reader gives it. */
export interface WeightTensor {
  dtype: string;
  shape: number[];
  data: Uint8Array;
}

export type WeightLookup = (name: string) => WeightTensor | undefined;

/** ES_MAX_TENSORS of kernels/include/edgespec/model.h. */
const MAX_IO_TENSORS = 16;

const UNARY_OPS = ['relu', 'hardswish', 'hardsigmoid', 'sigmoid', 'silu', 'tanh'] as const;
const BINARY_OPS = ['add', 'sub', 'mul', 'div'] as const;

/** Ops of the vocabulary that this build maps onto kernels. */
export const SUPPORTED_OPS: readonly string[] = [
  'conv2d', 'linear', 'matmul', ...BINARY_OPS, ...UNARY_OPS, 'clamp', 'gelu', 'max_pool2d', 'avg_pool2d',
  'adaptive_avg_pool2d', 'mean', 'softmax', 'batch_norm', 'reshape', 'transpose', 'concat', 'split', 'pad'
];

/** A node the build cannot map onto a kernel, and why. */
export interface Unsupported {
  node: string;
  op: string;
  module: string;
  reason: string;
}

/** Lists every unsupported node in one error, grouped by op. */
export function unsupportedError(items: Unsupported[], target: string): EdgespecError {
  const byOp = new Map<string, Unsupported[]>();
  for (const item of items) byOp.set(item.op, [...(byOp.get(item.op) ?? []), item]);
  const lines = [...byOp.entries()].map(([op, list]) => {
    const examples = list.slice(0, 3).map(u => `${u.node}${u.module ? ` (${u.module})` : ''}`).join(', ');
    const more = list.length > 3 ? `, and ${list.length - 3} more` : '';
    return `  ${op}: ${list.length} node${list.length > 1 ? 's' : ''}, ${list[0].reason}: ${examples}${more}`;
  });
  return new EdgespecError(
    'unsupported-ops',
    `the model uses ${byOp.size} op${byOp.size > 1 ? 's' : ''} that target ${target} cannot run:\n${lines.join('\n')}`,
    'replace these layers in the model (see src/common/ops.json for the supported ops and their attributes), or add a kernel for them in kernels/',
    { unsupported: items }
  );
}

function defaultLayout(shape: number[], declared: string | undefined, framework: string): MemoryLayout {
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
  const base = { ...prov, inputs: [...node.inputs], outputs: [...node.outputs] };
  switch (node.op) {
    case 'conv2d':
      return {
        ...base, op: 'conv2d',
        attrs: {
          stride: a.pair('stride', [1, 1]), padding: a.padding('padding'), dilation: a.pair('dilation', [1, 1]),
          groups: a.int('groups', 1), weightLayout: a.oneOf('weight_layout', ['OIHW', 'OHWI', '1HWO'] as const, 'OIHW'),
          activation: a.activation()
        }
      };
    case 'linear':
      return { ...base, op: 'linear', attrs: { activation: a.activation() } };
    case 'matmul':
      return { ...base, op: 'matmul', attrs: {} };
    case 'add': case 'sub': case 'mul': case 'div':
      return { ...base, op: node.op, attrs: { ...(a.has('scalar') ? { scalar: a.number('scalar') } : {}), activation: a.activation() } };
    case 'relu': case 'hardswish': case 'hardsigmoid': case 'sigmoid': case 'silu': case 'tanh':
      return { ...base, op: node.op, attrs: {} };
    case 'clamp':
      return { ...base, op: 'clamp', attrs: { min: a.optionalNumber('min') ?? -Infinity, max: a.optionalNumber('max') ?? Infinity } };
    case 'gelu':
      return { ...base, op: 'gelu', attrs: { approximate: a.oneOf('approximate', ['none', 'tanh'] as const, 'none') } };
    case 'max_pool2d': {
      const kernel = a.pair('kernel');
      return {
        ...base, op: 'max_pool2d',
        attrs: {
          kernel, stride: a.pair('stride', kernel), padding: a.padding('padding'), dilation: a.pair('dilation', [1, 1]),
          ceilMode: a.bool('ceil_mode', false), activation: a.activation()
        }
      };
    }
    case 'avg_pool2d': {
      const kernel = a.pair('kernel');
      const divisor = a.optionalNumber('divisor_override');
      return {
        ...base, op: 'avg_pool2d',
        attrs: {
          kernel, stride: a.pair('stride', kernel), padding: a.padding('padding'), ceilMode: a.bool('ceil_mode', false),
          countIncludePad: a.bool('count_include_pad', true), divisorOverride: divisor, activation: a.activation()
        }
      };
    }
    case 'adaptive_avg_pool2d':
      return { ...base, op: 'adaptive_avg_pool2d', attrs: { outputSize: a.pair('output_size') } };
    case 'mean':
      return { ...base, op: 'mean', attrs: { axes: a.ints('axes'), keepdim: a.bool('keepdim', false) } };
    case 'softmax':
      return { ...base, op: 'softmax', attrs: { axis: a.int('axis') } };
    case 'batch_norm':
      return { ...base, op: 'batch_norm', attrs: { eps: a.number('eps', 1e-5) } };
    case 'reshape':
      return { ...base, op: 'reshape', attrs: { shape: a.ints('shape') } };
    case 'transpose':
      return { ...base, op: 'transpose', attrs: { perm: a.ints('perm') } };
    case 'concat':
      return { ...base, op: 'concat', attrs: { axis: a.int('axis') } };
    case 'split':
      return { ...base, op: 'split', attrs: { axis: a.int('axis'), sizes: a.ints('sizes') } };
    case 'pad':
      return { ...base, op: 'pad', attrs: { pads: a.pairs('pads'), value: a.number('value', 0) } };
    default:
      return 'no kernel implements this op';
  }
}

function roleOf(kind: string): TensorRole {
  return kind === 'weight' ? 'weight' : kind === 'input' ? 'input' : kind === 'output' ? 'output' : 'activation';
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
    const badDtype = [...node.inputs, ...node.outputs].find(t => graph.tensors[t].dtype !== 'float32');
    if (badDtype) {
      unsupported.push({ node: node.name, op: node.op, module: node.module, reason: `tensor ${badDtype} is ${graph.tensors[badDtype].dtype}, and only float32 kernels exist` });
      continue;
    }
    nodes.push(typed);
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
    if (role === 'weight') tensor.data = loadWeight(name, t.shape, weights);
    tensors.set(name, tensor);
  }
  for (const io of graph.inputs) {
    if (io.dtype !== 'float32') {
      throw unsupportedError([{ node: io.name, op: 'input', module: '', reason: `input dtype ${io.dtype}; only float32 is supported` }], target);
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
