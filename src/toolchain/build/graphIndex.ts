import { IrGraph, IrNode, IrTensor } from './ir';

/** Who produces and who reads each tensor; built once per pass. */
export class GraphIndex {
  readonly producer = new Map<string, IrNode>();
  readonly consumers = new Map<string, IrNode[]>();
  readonly graphOutputs: Set<string>;

  constructor(readonly graph: IrGraph) {
    this.graphOutputs = new Set(graph.outputs.map(o => o.tensor));
    for (const node of graph.nodes) {
      for (const t of node.outputs) this.producer.set(t, node);
      for (const t of new Set(node.inputs)) this.consumers.set(t, [...(this.consumers.get(t) ?? []), node]);
    }
  }

  tensor(name: string): IrTensor {
    const t = this.graph.tensors.get(name);
    if (!t) throw new Error(`internal: tensor ${name} is not in the graph`);
    return t;
  }

  /** The one node that reads `tensor`, when it is not also a graph output; else undefined. */
  soleConsumer(tensor: string): IrNode | undefined {
    const readers = this.consumers.get(tensor) ?? [];
    if (readers.length !== 1 || this.graphOutputs.has(tensor)) return undefined;
    return readers[0];
  }
}

/** A shallow copy of the graph whose node list and tensor map a pass may change freely. */
export function cloneGraph(graph: IrGraph): IrGraph {
  return {
    name: graph.name,
    inputs: graph.inputs.map(io => ({ ...io })),
    outputs: graph.outputs.map(io => ({ ...io })),
    tensors: new Map([...graph.tensors.entries()].map(([k, t]) => [k, { ...t, shape: [...t.shape] }])),
    nodes: graph.nodes.map(n => ({ ...n, inputs: [...n.inputs], outputs: [...n.outputs] }) as IrNode)
  };
}

/** Replaces every read of `from` by `to` (node inputs and graph outputs). */
export function renameUses(graph: IrGraph, from: string, to: string): void {
  for (const node of graph.nodes) node.inputs = node.inputs.map(t => (t === from ? to : t));
  for (const io of graph.outputs) if (io.tensor === from) io.tensor = to;
}

/** Drops tensors no node or graph input/output mentions any more. */
export function pruneTensors(graph: IrGraph): void {
  const used = new Set<string>([...graph.inputs, ...graph.outputs].map(io => io.tensor));
  for (const n of graph.nodes) for (const t of [...n.inputs, ...n.outputs]) used.add(t);
  for (const name of [...graph.tensors.keys()]) if (!used.has(name)) graph.tensors.delete(name);
}

/** A tensor name not yet in the graph, derived from `base`. */
export function freshName(graph: IrGraph, base: string): string {
  if (!graph.tensors.has(base)) return base;
  for (let i = 1; ; i++) if (!graph.tensors.has(`${base}_${i}`)) return `${base}_${i}`;
}
