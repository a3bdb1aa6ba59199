import * as path from 'path';
import { DebugTensorDump, DebugTensorsManifest, Graph } from '../../common/types';
import { repoFiles } from '../paths';
import { IrGraph } from './ir';
import { Schedule } from './schedule';
import { TargetSpec } from './targets';
import { QuantizedSchedule } from './quantize/mixedSchedule';

/** The platform half of a debug build: the file the model dumps into (edgespec/debug_tensors.h). */
export const DEBUG_TENSORS_SOURCE = path.join(repoFiles.kernelsDir, 'platform', 'common', 'debug_tensors.c');
export const DEBUG_TENSORS_FILE = 'debug-tensors.bin';

/** The target with the debug-tensors source added to its platform sources. */
export function withDebugTensorsSource(target: TargetSpec): TargetSpec {
  return { ...target, sources: [...target.sources, DEBUG_TENSORS_SOURCE] };
}

/** The C statements that dump a step's results, given each written tensor's pointer expression. */
export function dumpCalls(step: number, writes: { pointer: string; bytes: number }[]): string[] {
  return writes.map((w, k) => `es_debug_tensor(${step}u, ${k}u, ${w.pointer}, ${w.bytes}u);`);
}

/**
 * The graph tensor whose values a schedule tensor holds: the int8 lowering names its copies
 * NAME#s8 / NAME#f32, the layout pass its conversions NAME:nhwc / NAME:nchw (the dump's
 * layout says how its bytes are ordered).
 */
export function graphTensorOf(name: string, graph: Graph): string | null {
  const base = name.replace(/#(s8|f32|f32pre)$/, '').replace(/:(nhwc|nchw)(_\d+)?$/, '');
  return base in graph.tensors ? base : null;
}

/**
 * build.json's debug_tensors: every tensor each step writes, in the order model.c dumps them,
 * with what it takes to compare it with the framework's value of its graph tensor.
 */
export function debugTensorsManifest(schedule: Schedule, ir: IrGraph, graph: Graph, quantized?: QuantizedSchedule): DebugTensorsManifest {
  const dumps: DebugTensorDump[] = [];
  schedule.steps.forEach((step, i) => {
    for (const name of step.writes) {
      const t = schedule.tensors.get(name);
      if (!t) throw new Error(`internal: step ${i} writes ${name}, which the schedule does not hold`);
      const graphTensor = graphTensorOf(name, graph);
      const base = name.replace(/#(s8|f32|f32pre)$/, '');
      const int8 = quantized?.dtypes.get(name) === 's8';
      const params = int8 ? quantized!.params.get(name) : undefined;
      dumps.push({
        step: i,
        tensor: name,
        graph_tensor: graphTensor,
        shape: [...t.shape],
        layout: ir.tensors.get(base)?.layout ?? 'plain',
        dtype: int8 ? 'int8' : 'float32',
        ...(params ? { scale: params.scale, zero_point: params.zp } : {}),
        bytes: t.bytes,
        op: step.op,
        kernel: step.kernel,
        module: step.from.module || '(model)',
        node: step.from.name,
        framework_ops: [...step.from.frameworkOps],
        ...(step.from.source ? { source: step.from.source } : {})
      });
    }
  });
  return { file: DEBUG_TENSORS_FILE, dumps };
}
