import { Graph, GraphNode } from '../../common/types';
import { EdgespecError } from '../errors';
import { attrProblems } from '../ops/attrRules';
import { loadOpVocabulary, opNames } from '../ops/vocabulary';
import { formatShape } from './safetensors';

/**
 * Checks what the schema cannot: every op is in the vocabulary, every tensor a node touches is
 * declared and produced before it is read, every given quantization fits its tensor.
 */
export function checkGraph(graph: Graph): void {
  checkOpsKnown(graph);
  checkTensorSizes(graph);
  checkAttrs(graph);
  const problems = [...ioProblems(graph), ...dataflowProblems(graph), ...stateProblems(graph), ...quantizationProblems(graph)];
  if (problems.length > 0) {
    throw new EdgespecError(
      'bundle-graph-inconsistent',
      `graph.json of '${graph.name}' is inconsistent (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${listLines(problems)}`,
      'the bundle was written by a broken or different edgespec capture; capture the model again with this version',
      { problems }
    );
  }
}

function checkOpsKnown(graph: Graph): void {
  const known = opNames(loadOpVocabulary());
  const unknown = new Map<string, GraphNode[]>();
  for (const node of graph.nodes) {
    if (known.has(node.op)) continue;
    unknown.set(node.op, [...(unknown.get(node.op) ?? []), node]);
  }
  if (unknown.size === 0) return;
  const lines = [...unknown].map(([op, nodes]) => `${op}: ${nodes.length} node${nodes.length === 1 ? '' : 's'}, first ${describeNode(nodes[0])}`);
  throw new EdgespecError(
    'bundle-unknown-op',
    `graph.json of '${graph.name}' uses ${unknown.size} op${unknown.size === 1 ? '' : 's'} outside the edgespec vocabulary:\n${listLines(lines)}`,
    'edgespec has no kernel for these; see docs/ops.md for the supported ops, and change the model to use them',
    { unknown_ops: [...unknown.keys()] }
  );
}

/**
 * Every tensor must fit what the kernels and any target can hold: the kernels count elements
 * with int32_t and model.h gives I/O sizes as uint32_t. A larger shape is refused here, before
 * anything multiplies it out.
 */
export const MAX_TENSOR_ELEMENTS = 2 ** 31 - 1;
export const MAX_TENSOR_BYTES = 2 ** 32 - 1;
const ITEM_BYTES: Record<string, number> = { float32: 4, int32: 4, int64: 8, float64: 8, float16: 2, bfloat16: 2, int16: 2, int8: 1, uint8: 1, bool: 1 };

function checkTensorSizes(graph: Graph): void {
  const problems: string[] = [];
  const sized = [
    ...Object.entries(graph.tensors).map(([name, t]) => ({ label: `tensor '${name}'`, shape: t.shape, dtype: t.dtype })),
    ...[...graph.inputs, ...graph.outputs].map(io => ({ label: `${graph.inputs.includes(io) ? 'input' : 'output'} '${io.name}'`, shape: io.shape, dtype: io.dtype }))
  ];
  for (const { label: name, ...t } of sized) {
    let elements = 1;
    for (const d of t.shape) elements *= d;
    const bytes = elements * (ITEM_BYTES[t.dtype] ?? 8);
    if (elements > MAX_TENSOR_ELEMENTS) {
      problems.push(`${name} of shape ${formatShape(t.shape)} has ${elements.toExponential(3)} elements, more than the ${MAX_TENSOR_ELEMENTS} (2^31 - 1) an edgespec kernel can index`);
    } else if (bytes > MAX_TENSOR_BYTES) {
      problems.push(`${name} of shape ${formatShape(t.shape)} (${t.dtype}) is ${bytes} bytes, more than the ${MAX_TENSOR_BYTES} (4 GiB - 1) an image can hold`);
    }
  }
  if (problems.length === 0) return;
  throw new EdgespecError(
    'bundle-tensor-too-large',
    `graph.json of '${graph.name}' has ${problems.length} tensor${problems.length === 1 ? '' : 's'} too large for any target:\n${listLines(problems)}`,
    'capture the model with a smaller input shape (--input-shape), or check the shapes in graph.json',
    { problems }
  );
}

/** Every node's attributes follow the op's rules (src/toolchain/ops/attrRules.ts), as the build reads them. */
function checkAttrs(graph: Graph): void {
  const problems = graph.nodes.flatMap(node =>
    attrProblems(node, { inputShapes: node.inputs.map(t => graph.tensors[t]?.shape), outputCount: node.outputs.length })
  );
  if (problems.length === 0) return;
  throw new EdgespecError(
    'bundle-bad-attribute',
    `graph.json of '${graph.name}' has ${problems.length} node attribute${problems.length === 1 ? '' : 's'} outside the op vocabulary:\n${listLines(problems)}`,
    'the bundle does not follow src/common/ops.json (see docs/ops.md); capture the model again with this version of edgespec, or correct graph.json',
    { problems }
  );
}

export function describeNode(node: GraphNode): string {
  const parts = [`module '${node.module || '(root)'}'`, `from ${node.framework_ops.join(', ')}`];
  if (node.source) parts.push(`at ${node.source}`);
  return `node '${node.name}' (${parts.join(', ')})`;
}

function ioProblems(graph: Graph): string[] {
  const problems: string[] = [];
  for (const [side, list] of [['input', graph.inputs], ['output', graph.outputs]] as const) {
    for (const io of list) {
      const tensor = graph.tensors[io.tensor];
      if (!tensor) {
        problems.push(`${side} '${io.name}' names tensor '${io.tensor}', which is not declared in tensors`);
      } else if (tensor.dtype !== io.dtype || formatShape(tensor.shape) !== formatShape(io.shape)) {
        problems.push(`${side} '${io.name}' is ${io.dtype} ${formatShape(io.shape)} but its tensor '${io.tensor}' is declared ${tensor.dtype} ${formatShape(tensor.shape)}`);
      }
    }
  }
  return problems;
}

/** Nodes are in topological order: a node reads only graph inputs, weights and tensors of earlier nodes. */
function dataflowProblems(graph: Graph): string[] {
  const problems: string[] = [];
  const available = new Set<string>();
  for (const [name, tensor] of Object.entries(graph.tensors)) {
    if (tensor.kind === 'weight' || tensor.kind === 'state') available.add(name);
  }
  for (const io of graph.inputs) available.add(io.tensor);
  const producer = new Map<string, string>();
  for (const node of graph.nodes) {
    for (const input of node.inputs) {
      if (!(input in graph.tensors)) problems.push(`${describeNode(node)} reads tensor '${input}', which is not declared in tensors`);
      else if (!available.has(input)) problems.push(`${describeNode(node)} reads tensor '${input}' before any node writes it (nodes must be in topological order)`);
    }
    for (const output of node.outputs) {
      if (!(output in graph.tensors)) problems.push(`${describeNode(node)} writes tensor '${output}', which is not declared in tensors`);
      const earlier = producer.get(output);
      if (earlier !== undefined) problems.push(`tensor '${output}' is written by node '${earlier}' and again by node '${node.name}'`);
      producer.set(output, node.name);
      available.add(output);
    }
  }
  for (const io of graph.outputs) {
    if (io.tensor in graph.tensors && !available.has(io.tensor)) problems.push(`output '${io.name}' (tensor '${io.tensor}') is written by no node`);
  }
  return problems;
}

/**
 * Each state record (graph.state) reads a tensor of kind state, ends as a computed tensor and
 * starts as a weight, both of the read tensor's shape and dtype; every state tensor has one
 * record. The rule of bundle_validation.py too.
 */
function stateProblems(graph: Graph): string[] {
  const problems: string[] = [];
  const records = graph.state ?? [];
  for (const record of records) {
    const label = `state '${record.name}'`;
    const read = graph.tensors[record.read];
    const write = graph.tensors[record.write];
    const initial = graph.tensors[record.initial];
    if (!read || read.kind !== 'state') problems.push(`${label} reads '${record.read}', which is not a tensor of kind state`);
    else if (!write || write.kind === 'weight') problems.push(`${label} ends as '${record.write}', which is not a computed tensor`);
    else if (!initial || initial.kind !== 'weight') problems.push(`${label} starts as '${record.initial}', which is not a weight`);
    else {
      for (const [role, other] of [['ends as', write], ['starts as', initial]] as const) {
        if (other.dtype !== read.dtype || formatShape(other.shape) !== formatShape(read.shape)) {
          problems.push(`${label} ${role} a ${other.dtype}${formatShape(other.shape)} tensor but holds ${read.dtype}${formatShape(read.shape)}`);
        }
      }
    }
  }
  for (const [name, tensor] of Object.entries(graph.tensors)) {
    const count = records.filter(r => r.read === name).length;
    if (tensor.kind === 'state' && count !== 1) problems.push(`tensor '${name}' is of kind state but ${count} state records read it`);
  }
  return problems;
}

/** Zero points each quantized dtype can hold: int8 codes, int32 biases (always 0). The rule of bundle_validation.py too. */
const ZERO_POINTS: Partial<Record<string, [number, number]>> = { int8: [-128, 127], int32: [0, 0] };

function quantizationProblems(graph: Graph): string[] {
  const problems: string[] = [];
  for (const [name, t] of Object.entries(graph.tensors)) {
    const q = t.quantization;
    if (!q) {
      if (t.dtype === 'int8') problems.push(`tensor '${name}' is int8 without a quantization (scale and zero_point)`);
      continue;
    }
    const range = ZERO_POINTS[t.dtype];
    if (!range) {
      problems.push(`tensor '${name}' is ${t.dtype} but has a quantization; only int8 and int32 tensors are quantized`);
      continue;
    }
    const count = q.scale.length;
    if (q.zero_point.length !== count) problems.push(`tensor '${name}' has ${count} scales but ${q.zero_point.length} zero points`);
    if (count > 1 && (q.axis === undefined || q.axis >= t.shape.length || t.shape[q.axis] !== count)) {
      problems.push(`tensor '${name}' of shape ${formatShape(t.shape)} has ${count} scales along axis ${q.axis}; per-channel scales need an axis of that size`);
    }
    if (q.zero_point.some(z => z < range[0] || z > range[1])) problems.push(`tensor '${name}' (${t.dtype}) has zero points outside [${range[0]}, ${range[1]}]`);
  }
  return problems;
}

export function listLines(lines: string[], limit = 25, maxChars = 2500): string {
  // At most `limit` lines, each cut at 200 characters, and at most maxChars in all: a bundle with
  // long names (the fuzz suite found 27 problems that made a 4,327-character message) still gets
  // an error one can read.
  const shown: string[] = [];
  let chars = 0;
  for (const l of lines.slice(0, limit)) {
    const line = `  - ${l.length > 200 ? `${l.slice(0, 200)}…` : l}`;
    if (shown.length > 0 && chars + line.length > maxChars) break;
    shown.push(line);
    chars += line.length + 1;
  }
  if (lines.length > shown.length) shown.push(`  ... and ${lines.length - shown.length} more`);
  return shown.join('\n');
}
