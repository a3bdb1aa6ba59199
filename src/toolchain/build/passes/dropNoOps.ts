import { cloneGraph, GraphIndex, pruneTensors, renameUses } from '../graphIndex';
import { IrGraph, IrNode } from '../ir';
import { isIdentityPerm, sameShape } from '../shape';

/** True when the node hands its input on unchanged. */
function isNoOp(node: IrNode, index: GraphIndex): boolean {
  const x = index.graph.tensors.get(node.inputs[0]);
  const y = index.graph.tensors.get(node.outputs[0]);
  if (!x || !y || !sameShape(x.shape, y.shape) || node.outputs.length !== 1) return false;
  switch (node.op) {
    case 'reshape':
      return true;
    case 'transpose':
      return isIdentityPerm(node.attrs.perm);
    case 'clamp':
      return node.attrs.min === -Infinity && node.attrs.max === Infinity;
    case 'mul':
    case 'div':
      return node.attrs.scalar === 1 && node.attrs.activation.min === -Infinity && node.attrs.activation.max === Infinity;
    case 'concat':
    case 'split':
      return node.inputs.length === 1 && node.outputs.length === 1;
    default:
      return false;
  }
}

/**
 * Removes nodes that compute nothing (reshape to the same shape, identity transpose,
 * unbounded clamp, multiply by one, one-piece concat/split) and collapses reshape chains
 * (reshape of a reshape reads the first one's input). A no-op whose output is a graph output
 * stays when its input cannot stand in for it (a graph input, a weight, or another output).
 */
export function dropNoOps(graph: IrGraph): IrGraph {
  const g = cloneGraph(graph);
  let index = new GraphIndex(g);

  for (const node of g.nodes) {
    if (node.op !== 'reshape') continue;
    const source = index.producer.get(node.inputs[0]);
    if (source?.op === 'reshape') node.inputs = [source.inputs[0]];
  }
  index = new GraphIndex(g);

  const kept: IrNode[] = [];
  for (const node of g.nodes) {
    if (!isNoOp(node, index)) {
      kept.push(node);
      continue;
    }
    const [x] = node.inputs;
    const [y] = node.outputs;
    if (index.graphOutputs.has(y)) {
      const xt = index.tensor(x);
      if (xt.role !== 'activation') {
        kept.push(node);
        continue;
      }
      xt.role = 'output';
    }
    renameUses(g, y, x);
  }
  g.nodes = kept;
  // A reshape chain may leave the first reshape without readers.
  removeDeadNodes(g);
  pruneTensors(g);
  return g;
}

/** Removes nodes none of whose outputs is read or returned, repeatedly. */
export function removeDeadNodes(g: IrGraph): void {
  for (;;) {
    const index = new GraphIndex(g);
    const live = g.nodes.filter(n => n.outputs.some(t => index.graphOutputs.has(t) || (index.consumers.get(t) ?? []).length > 0));
    if (live.length === g.nodes.length) return;
    g.nodes = live;
  }
}
