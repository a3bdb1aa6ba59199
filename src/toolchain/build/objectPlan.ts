import { existsSync } from 'fs';
import * as path from 'path';
import { EdgespecError } from '../errors';
import { repoFiles, repoRoot } from '../paths';
import { CompileUnit } from './compile';
import { LoweredModel } from './lowerModel';
import { ioFileBytes } from './memoryCheck';
import { plantedCpuFaultFlags } from './plantFault';
import { kernelFunction } from './schedule';
import { TargetSpec } from './targets';

/** The source of each object, for the footprint (objects as the linker map names them). */
export interface ObjectPlan {
  units: CompileUnit[];
  sources: Map<string, string>;
  kernelOps: Map<string, string[]>;
}

export function planObjects(lowered: LoweredModel, target: TargetSpec, computedDefines: Record<string, number>): ObjectPlan {
  const units: CompileUnit[] = [];
  const sources = new Map<string, string>();
  const add = (source: string, object: string, origin: string, extraFlags: string[] = []) => {
    units.push({ source, object, extraFlags });
    sources.set(object, origin);
  };
  const usedNames = new Set<string>();
  for (const source of target.sources) {
    const rel = path.relative(path.join(repoFiles.kernelsDir, 'platform'), source);
    let name = rel.replace(/\.[cS]$/, '').replace(/[^A-Za-z0-9_]+/g, '-');
    while (usedNames.has(name)) name += '_';
    usedNames.add(name);
    const defines = target.defines.filter(d => d.for.includes(source)).map(d => {
      // the bytes of the inputs file: a board target's input buffer (rpi3)
      const value = d.name === 'ES_INPUT_BYTES' ? ioFileBytes(lowered.schedule.inputs.map(i => i.bytes)) : computedDefines[d.name];
      if (value === undefined) throw new Error(`internal: the ${target.name} platform wants -D${d.name}, which the build does not compute`);
      return `-D${d.name}=${value}`;
    });
    add(source, `obj/platform-${name}.o`, 'platform', [...defines, ...plantedCpuFaultFlags()]);
  }
  const files = kernelFiles(lowered, target);
  for (const file of files.keys()) add(file, `obj/kernel-${kernelName(file).replace(/\.[cS]$/, '')}.o`, `kernel:${kernelName(file)}`);
  add('model.c', 'obj/model.o', 'model');
  add('weights.S', 'obj/weights.o', 'weights');
  return { units, sources, kernelOps: new Map([...files.entries()].map(([file, ops]) => [`kernel:${kernelName(file)}`, [...ops].sort()])) };
}

/** A kernel file's name in objects and the footprint: int8 kernels (kernels/int8) as int8-NAME.c. */
function kernelName(file: string): string {
  return path.basename(path.dirname(file)) === 'int8' ? `int8-${path.basename(file)}` : path.basename(file);
}

/**
 * The kernel sources the schedule needs (with the kernels they call), each with the
 * edgespec ops it serves, sorted by file.
 */
function kernelFiles(lowered: LoweredModel, target: TargetSpec): Map<string, Set<string>> {
  const files = new Map<string, Set<string>>();
  const visit = (fn: string, op: string, seen: Set<string>) => {
    if (seen.has(fn)) return;
    seen.add(fn);
    const entry = target.kernels.get(fn);
    if (!entry) throw new Error(`internal: the kernel ${fn} is not in kernels/kernels.json`);
    const file = entry.source;
    if (!existsSync(file)) {
      throw new EdgespecError('kernel-missing', `the kernel source ${path.relative(repoRoot, file)} (${fn}) is missing`, 'the edgespec installation is incomplete; reinstall it');
    }
    files.set(file, new Set([...(files.get(file) ?? []), op]));
    for (const callee of entry.calls) visit(callee, op, seen);
  };
  for (const step of lowered.schedule.steps) {
    if (step.kernel !== 'alias') visit(kernelFunction(step.kernel), step.op, new Set());
  }
  return new Map([...files.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** The bytes of the platform's static output storage: each output rounded up to 64 bytes. */
export function outputStorage(lowered: LoweredModel): number {
  return lowered.schedule.outputs.reduce((sum, o) => sum + Math.ceil(o.bytes / 64) * 64, 0);
}

