import { EdgespecError } from '../errors';
import { NotSupported, SelectContext } from '../ops/opModule';
import { irRuleOf } from '../ops/registry';
import { unsupportedError, Unsupported } from './unsupported';
import { GraphIndex } from './graphIndex';
import { elementBytes, IrGraph, IrNode, IrTensor, Provenance } from './ir';
import { Packed } from './packWeights';
import { KernelStep, PackedWeight, Schedule, ScheduledTensor, ScheduleIO } from './schedule';
import { formatShape, numel, sameShape } from './shape';

/**
 * Chooses the kernel of every node of an NHWC graph, computes its arguments, and re-lays
 * each weight for the kernel that reads it. Every node that no kernel can run is reported
 * together in one error.
 */
export function selectKernels(graph: IrGraph, target: string): Schedule {
  return new KernelSelector(graph).run(target);
}

class KernelSelector implements SelectContext {
  private readonly steps: KernelStep[] = [];
  private readonly weights = new Map<string, PackedWeight>();
  private readonly weightAliases = new Map<string, string>();
  private readonly tensors = new Map<string, ScheduledTensor>();
  private readonly unsupported: Unsupported[] = [];

  private readonly index: GraphIndex;

  constructor(private readonly g: IrGraph) {
    this.index = new GraphIndex(g);
  }

  run(target: string): Schedule {
    this.g.inputs.forEach((io, i) => this.registerActivation(io.tensor, 'input', i));
    this.g.outputs.forEach((io, i) => this.registerActivation(io.tensor, 'output', i));
    for (const node of this.g.nodes) {
      try {
        this.select(node);
      } catch (e) {
        if (!(e instanceof NotSupported)) throw e;
        this.unsupported.push({ node: node.name, op: node.op, module: node.module, reason: e.message });
      }
    }
    if (this.unsupported.length > 0) throw unsupportedError(this.unsupported, target);
    const io = (list: { name: string; tensor: string }[]): ScheduleIO[] =>
      list.map(({ name, tensor }) => {
        const t = this.tensor(tensor);
        return { name, tensor, shape: [...t.shape], layout: t.layout, bytes: numel(t.shape) * elementBytes(t), ...(t.dtype ? { dtype: t.dtype } : {}) };
      });
    return {
      model: this.g.name,
      steps: this.steps,
      tensors: this.tensors,
      weights: [...this.weights.values()],
      inputs: io(this.g.inputs),
      outputs: io(this.g.outputs)
    };
  }

  tensor(name: string): IrTensor {
    const t = this.g.tensors.get(name);
    if (!t) throw new Error(`internal: no tensor ${name}`);
    return t;
  }

  isWeight(name: string): boolean {
    return this.weightAliases.has(name) || this.tensor(name).role === 'weight';
  }

  private registerActivation(name: string, home: 'arena' | 'input' | 'output', ioIndex?: number): string {
    if (!this.tensors.has(name)) {
      const t = this.tensor(name);
      this.tensors.set(name, { name, shape: [...t.shape], bytes: numel(t.shape) * elementBytes(t), home, ...(ioIndex !== undefined ? { ioIndex } : {}) });
    }
    return name;
  }

  /** An activation operand: registered in the schedule's tensor table. */
  act(name: string): string {
    if (this.isWeight(name)) throw new NotSupported(`tensor ${name} is a constant where the kernel needs an activation`);
    return this.registerActivation(name, 'arena');
  }

  /** A weight operand, packed once per packing and kept in order of first use. */
  weight(name: string, packingKey = 'as-is', pack?: (t: IrTensor) => Packed): string {
    const source = this.weightAliases.get(name) ?? name;
    const t = this.tensor(source);
    const key = packingKey === 'as-is' ? source : `${source}#${packingKey}`;
    if (!this.weights.has(key)) {
      const packed = pack ? pack(t) : { shape: [...t.shape], data: t.data!, packing: 'as is', ...(t.dtype ? { dtype: t.dtype } : {}) };
      this.weights.set(key, { name: key, source, module: t.module ?? '', ...packed });
    }
    return key;
  }

  operand(name: string): string {
    return this.isWeight(name) ? this.weight(name) : this.act(name);
  }

  push(step: Omit<KernelStep, 'from' | 'op'>, node: Provenance & { op: string }): void {
    if (!irRuleOf(node as IrNode).kernels.includes(step.kernel)) throw new Error(`internal: the op module of ${node.op} chose kernel ${step.kernel}, which its rule does not list`);
    const from: Provenance = { name: node.name, module: node.module, frameworkOps: node.frameworkOps, ...(node.source ? { source: node.source } : {}) };
    this.steps.push({ ...step, from, op: node.op } as KernelStep);
  }

  expect(node: IrNode, what: string, actual: number[], expected: number[]): void {
    if (!sameShape(actual, expected)) {
      throw new EdgespecError('bad-graph', `node ${node.name} (${node.op}, ${node.module}): ${what} has shape ${formatShape(actual)}, expected ${formatShape(expected)}`, 'capture the model again; graph.json is inconsistent');
    }
  }

  source(name: string): string {
    return this.weightAliases.get(name) ?? name;
  }

  packed(key: string): PackedWeight | undefined {
    return this.weights.get(key);
  }

  aliasWeight(alias: string, name: string): void {
    this.weightAliases.set(alias, this.weightAliases.get(name) ?? name);
  }

  homeOf(name: string): 'arena' | 'input' | 'output' | undefined {
    return this.tensors.get(name)?.home;
  }

  inputName(tensor: string): string | undefined {
    return this.g.inputs.find(io => io.tensor === tensor)?.name;
  }

  readerCount(name: string): number | undefined {
    return this.index.consumers.get(name)?.length;
  }

  private select(node: IrNode): void {
    irRuleOf(node).select(node, this);
  }
}
