import { cloneGraph, GraphIndex, pruneTensors } from '../graphIndex';
import { Activation, hasActivation, IrGraph, IrNode } from '../ir';

/** The clamp bounds of a relu or clamp node; undefined for anything else. */
function clampBounds(node: IrNode): Activation | undefined {
  if (node.op === 'relu') return { min: 0, max: Infinity };
  if (node.op === 'clamp') return { min: node.attrs.min, max: node.attrs.max };
  return undefined;
}

/** Ops whose kernels apply a clamp to their result on the way out. */
const FUSABLE_PRODUCERS = new Set(['conv2d', 'linear', 'add', 'sub', 'mul', 'div', 'max_pool2d', 'avg_pool2d', 'scale_shift']);

/**
 * clamp(clamp(x, a, b), c, d) is clamp(x, max(a, c), min(b, d)) when the two ranges
 * overlap; disjoint ranges give a constant, which is left unfused.
 */
function compose(inner: Activation, outer: Activation): Activation | undefined {
  const min = Math.max(inner.min, outer.min);
  const max = Math.min(inner.max, outer.max);
  return min <= max ? { min, max } : undefined;
}

/**
 * Moves relu / clamp (relu6, hardtanh) into the op that produces their input, when the
 * activation is that result's only reader: the producer's kernel clamps on the way out and
 * the activation's pass over memory disappears.
 */
export function fuseActivation(graph: IrGraph): IrGraph {
  const g = cloneGraph(graph);
  const index = new GraphIndex(g);
  const nodes: IrNode[] = [];
  for (const node of g.nodes) {
    const bounds = clampBounds(node);
    const producer = bounds ? index.producer.get(node.inputs[0]) : undefined;
    if (
      bounds && producer && FUSABLE_PRODUCERS.has(producer.op) && hasActivation(producer) &&
      producer.outputs.length === 1 && index.soleConsumer(node.inputs[0]) === node
    ) {
      const fused = compose(producer.attrs.activation, bounds);
      if (fused) {
        producer.attrs = { ...producer.attrs, activation: fused } as typeof producer.attrs;
        producer.outputs = [...node.outputs];
        producer.frameworkOps = [...producer.frameworkOps, ...node.frameworkOps];
        index.producer.set(node.outputs[0], producer);
        continue;
      }
    }
    nodes.push(node);
  }
  g.nodes = nodes;
  pruneTensors(g);
  return g;
}
