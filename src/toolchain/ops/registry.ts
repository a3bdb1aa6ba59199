// The op registry: every op module of the build, and lookups by op and by kernel.
// Adding an op family = one module in this folder + one line in MODULES.

import { IrNode, IrOp } from '../build/ir';
import { batchNormModule } from './batchNorm';
import { conv2dModule } from './conv2d';
import { convTransposeModule } from './convTranspose';
import { resizeModule } from './resize';
import { padMirrorModule } from './padMirror';
import { elementwiseModule } from './elementwise';
import { gemmModule } from './gemm';
import { indicesModule } from './indices';
import { normalizationModule } from './normalization';
import { plumbingModule } from './plumbing';
import { KernelModule, OpModule, OpRule } from './opModule';
import { poolModule } from './pool';
import { quantizeDynamicModule } from './quantizeDynamic';
import { reduceModule } from './reduce';
import { shapeModule } from './shape';
import { unaryModule } from './unary';

export const MODULES: readonly OpModule[] = [
  conv2dModule, gemmModule, elementwiseModule, unaryModule, poolModule, reduceModule, batchNormModule, shapeModule,
  convTransposeModule, normalizationModule, plumbingModule,
  resizeModule, padMirrorModule,
  indicesModule, quantizeDynamicModule
];

function collect<T>(pick: (m: OpModule) => Record<string, T>, what: string): Map<string, T> {
  const all = new Map<string, T>();
  for (const m of MODULES) {
    for (const [name, entry] of Object.entries(pick(m))) {
      if (all.has(name)) throw new Error(`internal: ${what} ${name} is registered by two op modules`);
      all.set(name, entry);
    }
  }
  return all;
}

const OPS = collect(m => m.ops, 'op');
const KERNELS = collect(m => m.kernels, 'kernel');

/** The rule of an op of graph.json, or undefined when no module implements it. */
export function opRuleOf(op: string): OpRule | undefined {
  return OPS.get(op);
}

/** The rule of an IR op (every IR op has one). */
export function irRuleOf(node: IrNode): OpRule {
  const rule = OPS.get(node.op as IrOp);
  if (!rule) throw new Error(`internal: no op module for ${node.op}`);
  return rule;
}

export function kernelOf(kernel: string): KernelModule {
  const k = KERNELS.get(kernel);
  if (!k) throw new Error(`internal: no kernel module for ${kernel}`);
  return k;
}
