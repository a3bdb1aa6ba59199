import { createHash } from 'crypto';
import { promises as fs } from 'fs';
import * as path from 'path';
import { Graph, GraphNode, Layout } from '../../../../src/common/types';
import { encodeSafetensors } from '../../../../src/toolchain/bundle/safetensors';
import { WeightLookup } from '../../../../src/toolchain/build/graphToIr';

/** Deterministic pseudo-random numbers in [-1, 1) (xorshift32). */
export function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return (s / 0x100000000) * 2 - 1;
  };
}

export interface BuiltGraph {
  graph: Graph;
  weights: Map<string, Float32Array>;
  lookup: WeightLookup;
}

/** Hand-made graph.json documents for tests, with random weights. */
export class GraphBuilder {
  private readonly tensors: Graph['tensors'] = {};
  private readonly nodes: GraphNode[] = [];
  private readonly inputs: Graph['inputs'] = [];
  private readonly outputs: Graph['outputs'] = [];
  readonly weights = new Map<string, Float32Array>();
  private counter = 0;
  private readonly random: () => number;

  constructor(readonly name: string, seed = 1, private readonly framework: Graph['source']['framework'] = 'pytorch') {
    this.random = rng(seed);
  }

  input(name: string, shape: number[], layout: Layout = shape.length === 4 ? 'NCHW' : 'NC'): string {
    this.tensors[name] = { shape, dtype: 'float32', kind: 'input', ...(shape.length === 4 ? { layout } : {}) };
    this.inputs.push({ name, tensor: name, shape, dtype: 'float32', layout });
    return name;
  }

  /** A weight with random values; `fill` overrides them (e.g. positive variances). */
  weight(name: string, shape: number[], module: string, fill?: (i: number) => number): string {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = fill ? fill(i) : this.random();
    this.tensors[name] = { shape, dtype: 'float32', kind: 'weight', module };
    this.weights.set(name, data);
    return name;
  }

  node(op: string, inputs: string[], outShape: number[], attrs: Record<string, unknown> = {}, module = '', frameworkOps: string[] = [`test.${op}`], layout: Layout = 'NCHW'): string {
    return this.nodeMulti(op, inputs, [outShape], attrs, module, frameworkOps, layout)[0];
  }

  /** `layout` is the layout of 4-D outputs. */
  nodeMulti(op: string, inputs: string[], outShapes: number[][], attrs: Record<string, unknown> = {}, module = '', frameworkOps: string[] = [`test.${op}`], layout: Layout = 'NCHW'): string[] {
    const id = this.counter++;
    const outputs = outShapes.map((shape, i) => {
      const name = `${op}_${id}${outShapes.length > 1 ? `_${i}` : ''}`;
      this.tensors[name] = { shape, dtype: 'float32', kind: 'activation', ...(shape.length === 4 ? { layout } : {}) };
      return name;
    });
    this.nodes.push({ name: `${op}_${id}`, op, inputs, outputs, attrs, framework_ops: frameworkOps, module });
    return outputs;
  }

  output(tensor: string, name = tensor): void {
    const t = this.tensors[tensor];
    t.kind = 'output';
    this.outputs.push({ name, tensor, shape: t.shape, dtype: 'float32', layout: t.shape.length === 4 ? t.layout ?? 'NCHW' : t.shape.length === 2 ? 'NC' : 'ANY' });
  }

  build(): BuiltGraph {
    const weightNames = [...this.weights.keys()];
    const graph: Graph = {
      format: 'edgespec.graph',
      version: 1,
      name: this.name,
      source: { framework: this.framework, framework_version: 'test', method: 'hand-made', producer: 'edgespec test' },
      inputs: this.inputs,
      outputs: this.outputs,
      tensors: this.tensors,
      nodes: this.nodes,
      weights: { file: 'weights.safetensors', sha256: '0'.repeat(64), bytes: 0, count: weightNames.length },
      reference: { file: 'reference.safetensors', sha256: '0'.repeat(64), inputs: this.inputs.map(i => i.name), outputs: this.outputs.map(o => o.name) },
      op_inventory: {}
    };
    for (const n of this.nodes) for (const op of n.framework_ops) graph.op_inventory[op] = (graph.op_inventory[op] ?? 0) + 1;
    const weights = this.weights;
    const lookup: WeightLookup = name => {
      const data = weights.get(name);
      const t = graph.tensors[name];
      return data && t ? { dtype: 'float32', shape: t.shape, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) } : undefined;
    };
    return { graph: JSON.parse(JSON.stringify(graph)) as Graph, weights, lookup };
  }
}

/** Writes a complete bundle directory (graph.json, weights and reference safetensors) that loadBundle accepts. */
export async function writeBundle(dir: string, built: BuiltGraph, referenceInputs: Float32Array[], referenceOutputs: Float32Array[]): Promise<void> {
  await fs.mkdir(dir, { recursive: true });
  const { graph } = built;
  const weightsFile = encodeSafetensors([...built.weights.entries()].map(([name, data]) => ({ name, dtype: 'float32' as const, shape: graph.tensors[name].shape, data })));
  const referenceFile = encodeSafetensors([
    ...graph.inputs.map((io, i) => ({ name: io.name, dtype: 'float32' as const, shape: io.shape, data: referenceInputs[i] })),
    ...graph.outputs.map((io, i) => ({ name: io.name, dtype: 'float32' as const, shape: io.shape, data: referenceOutputs[i] }))
  ]);
  const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
  const full: Graph = {
    ...graph,
    weights: { file: 'weights.safetensors', sha256: sha(weightsFile), bytes: weightsFile.length, count: built.weights.size },
    reference: { file: 'reference.safetensors', sha256: sha(referenceFile), inputs: graph.inputs.map(i => i.name), outputs: graph.outputs.map(o => o.name) }
  };
  await fs.writeFile(path.join(dir, 'weights.safetensors'), weightsFile);
  await fs.writeFile(path.join(dir, 'reference.safetensors'), referenceFile);
  await fs.writeFile(path.join(dir, 'graph.json'), JSON.stringify(full, null, 1));
}

/** A bundle of `built` whose reference input is every element 0.5 (and output zeros): enough for build tests. */
export async function writeHalfInputBundle(dir: string, built: BuiltGraph): Promise<void> {
  const sized = (shape: number[]) => new Float32Array(shape.reduce((a, b) => a * b, 1));
  await writeBundle(dir, built, built.graph.inputs.map(io => sized(io.shape).fill(0.5)), built.graph.outputs.map(io => sized(io.shape)));
}
