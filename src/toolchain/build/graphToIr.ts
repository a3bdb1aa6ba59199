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
