import { Graph, GraphIO } from '../../common/types';
import { removedFrameworkOps } from '../ops/vocabulary';
import { Bundle } from './loadBundle';
import { givenQuantizationSummary, hasGivenQuantization } from './quantization';
import { elementCount } from './safetensors';

export interface InventoryRow {
  framework_op: string;
  /** Times dispatched while the model ran eagerly. */
  count: number;
  /** The edgespec ops that graph nodes made from this framework op; empty when not derivable. */
  edgespec_ops: string[];
  /** Removed by capture as an identity at inference (dropout, clone, ...). */
  removed: boolean;
}

export interface BundleSummary {
  bundle: string;
  name: string;
  source: Graph['source'];
  inputs: Omit<GraphIO, 'tensor'>[];
  outputs: Omit<GraphIO, 'tensor'>[];
  node_count: number;
  op_inventory: InventoryRow[];
  edgespec_ops: { op: string; count: number }[];
  parameters: { tensors: number; elements: number; bytes: number };
  /** Present when the bundle carries its own quantization (an int8 .tflite): edgespec build makes it int8 with it. */
  quantization?: { dtype: 'int8'; given_by: string; activation_tensors: number; weights: number; per_channel_weights: number };
  checksums: Record<'weights' | 'reference', { file: string; sha256: string; bytes: number; status: 'ok' }>;
}

/** What `edgespec inspect` reports about a loaded (hence validated) bundle. */
export function summarizeBundle(bundle: Bundle): BundleSummary {
  const { graph } = bundle;
  let elements = 0;
  let bytes = 0;
  for (const tensor of bundle.weights.tensors.values()) {
    elements += elementCount(tensor.shape);
    bytes += tensor.data.length;
  }
  const io = ({ name, shape, dtype, layout }: GraphIO) => ({ name, shape, dtype, layout });
  return {
    bundle: bundle.dir,
    name: graph.name,
    source: graph.source,
    inputs: graph.inputs.map(io),
    outputs: graph.outputs.map(io),
    node_count: graph.nodes.length,
    op_inventory: inventoryRows(graph),
    edgespec_ops: byCountThenName(countBy(graph.nodes.map(n => n.op))).map(([op, count]) => ({ op, count })),
    parameters: { tensors: bundle.weights.tensors.size, elements, bytes },
    ...(hasGivenQuantization(graph) ? { quantization: quantizationOf(graph) } : {}),
    checksums: {
      weights: { file: graph.weights.file, sha256: graph.weights.sha256, bytes: bundle.weights.byteLength, status: 'ok' },
      reference: { file: graph.reference.file, sha256: graph.reference.sha256, bytes: bundle.reference.byteLength, status: 'ok' }
    }
  };
}

function quantizationOf(graph: Graph): NonNullable<BundleSummary['quantization']> {
  const count = givenQuantizationSummary(graph);
  return { dtype: 'int8', given_by: graph.source.framework, activation_tensors: count.activations, weights: count.weights, per_channel_weights: count.perChannelWeights };
}

function inventoryRows(graph: Graph): InventoryRow[] {
  const madeInto = new Map<string, Set<string>>();
  for (const node of graph.nodes) {
    for (const frameworkOp of node.framework_ops) {
      const ops = madeInto.get(frameworkOp) ?? new Set<string>();
      ops.add(node.op);
      madeInto.set(frameworkOp, ops);
    }
  }
  const removed = removedFrameworkOps();
  return byCountThenName(Object.entries(graph.op_inventory)).map(([frameworkOp, count]) => {
    // Eager runs dispatch in-place variants (aten.relu_.default) that export turns functional.
    const functional = functionalForm(frameworkOp);
    const ops = madeInto.get(frameworkOp) ?? madeInto.get(functional) ?? new Set<string>();
    return {
      framework_op: frameworkOp,
      count,
      edgespec_ops: [...ops].sort(),
      removed: ops.size === 0 && (removed.has(frameworkOp) || removed.has(functional))
    };
  });
}

/** aten.add_.Tensor -> aten.add.Tensor; other names unchanged. */
export function functionalForm(frameworkOp: string): string {
  return frameworkOp.replace(/^(\w+)\.(\w*[^_])_\.(\w+)$/, '$1.$2.$3');
}

function countBy(values: string[]): [string, number][] {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts];
}

function byCountThenName(entries: [string, number][]): [string, number][] {
  return [...entries].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}
