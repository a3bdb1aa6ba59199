import { Graph } from '../../common/types';
import { graphToIr, WeightLookup } from './graphToIr';
import { IrGraph } from './ir';
import { dropNoOps } from './passes/dropNoOps';
import { foldBatchNorm } from './passes/foldBatchNorm';
import { foldViewChains } from './passes/foldViewChains';
import { fuseActivation } from './passes/fuseActivation';
import { toNHWC } from './passes/toNHWC';
import { ArenaPlan, findOverlaps, planArena, PlanTensor } from './planArena';
import type { ModelSource } from './emitModelSource';
import { Schedule } from './schedule';
import { selectKernels } from './selectKernel';
import { layoutWeights, WeightsBlob } from './weightsBlob';

export interface LoweredModel {
  ir: IrGraph;
  schedule: Schedule;
  plan: ArenaPlan;
  blob: WeightsBlob;
  /** model.c and weights.S when the lowering writes its own (int8 images); else emitModelSource. */
  source?: ModelSource;
  /** Lines for build.log about how the model was lowered. */
  notes?: string[];
}

/** The graph passes in order; each takes and returns an IR graph. */
export const GRAPH_PASSES: readonly { name: string; run: (g: IrGraph) => IrGraph }[] = [
  { name: 'dropNoOps', run: dropNoOps },
  { name: 'foldBatchNorm', run: foldBatchNorm },
  { name: 'fuseActivation', run: fuseActivation },
  { name: 'toNHWC', run: toNHWC },
  { name: 'foldViewChains', run: foldViewChains },
  // Layout conversion can leave view chains behind (e.g. a free re-view of a reshape).
  { name: 'dropNoOps', run: dropNoOps }
];

export function runPasses(ir: IrGraph, onPass?: (name: string, index: number, total: number) => void): IrGraph {
  let g = ir;
  GRAPH_PASSES.forEach((pass, i) => {
    g = pass.run(g);
    onPass?.(pass.name, i + 1, GRAPH_PASSES.length);
  });
  return g;
}

export function planSchedule(schedule: Schedule): ArenaPlan {
  const tensors = new Map<string, PlanTensor>();
  for (const [name, t] of schedule.tensors) tensors.set(name, { bytes: t.bytes, home: t.home, ...(t.ioIndex !== undefined ? { ioIndex: t.ioIndex } : {}) });
  const plan = planArena(
    schedule.steps.map(s => ({ reads: s.reads.filter(r => tensors.has(r)), writes: s.writes, inPlace: s.inPlace, alias: s.kernel === 'alias' })),
    tensors
  );
  const clashes = findOverlaps(plan);
  if (clashes.length > 0) {
    const [a, b] = clashes[0];
    throw new Error(`internal: the arena plan overlaps live tensors ${a.tensors[0]} and ${b.tensors[0]}`);
  }
  return plan;
}

/** graph.json + weights → the schedule, its arena plan and the weights blob (no files, no compiler). */
export function lowerModel(graph: Graph, weights: WeightLookup, target: string, onPass?: (name: string, index: number, total: number) => void): LoweredModel {
  const ir = runPasses(graphToIr(graph, weights, target), onPass);
  const schedule = selectKernels(ir, target);
  const plan = planSchedule(schedule);
  const blob = layoutWeights(schedule.weights);
  return { ir, schedule, plan, blob };
}
