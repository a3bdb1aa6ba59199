import { EdgespecError } from '../errors';
import { LoweredModel } from './lowerModel';
import { BlobEntry } from './weightsBlob';

/**
 * A test-only switch that builds a deliberately wrong image, so that the tests of
 * `edgespec diff` can check it finds the layer: EDGESPEC_TEST_PLANT_FAULT=KIND:MODULE.
 *   zero-bias:MODULE      the bias of that layer's convolution or linear step is zeroed
 *   requant-shift:MODULE  int8: that layer's requantization shifts are one too large
 * The fault is in weights.bin only: the code is the correct image's. And:
 *   cpu-fault             the platform's runner is compiled with -DES_TEST_CPU_FAULT=1 and
 *                         loads from an unmapped address before the model runs (the efi
 *                         platform), so the tests can check a CPU exception is reported
 */
export const PLANT_FAULT_VARIABLE = 'EDGESPEC_TEST_PLANT_FAULT';

type FaultKind = 'zero-bias' | 'requant-shift';

/** An int8 layer's folded table: `W#shift`, or `W#shift:HASH` where equal tables are shared (perChannelInt8.ts). */
const isTable = (name: string, table: 'bias' | 'shift'): boolean => new RegExp(`#${table}(:[0-9a-f]+)?$`).test(name);

/** The entries of weights.bin a fault changes, for an fp32 or an int8 lowering. */
function faultEntries(lowered: LoweredModel, kind: FaultKind, module: string): BlobEntry[] {
  const { blob, schedule } = lowered;
  if (kind === 'requant-shift') return blob.entries.filter(e => e.module === module && isTable(e.name, 'shift'));
  const int8 = blob.entries.filter(e => e.module === module && isTable(e.name, 'bias'));
  if (int8.length > 0) return int8;
  const names = new Set<string>();
  for (const step of schedule.steps) {
    const b = (step.args as { b?: unknown }).b;
    if (step.from.module === module && typeof b === 'string' && blob.byName.has(b)) names.add(b);
  }
  return [...names].map(n => blob.byName.get(n)!);
}

/** Whether the environment asks for a CPU exception in the platform's runner (its compile flag). */
export function plantedCpuFaultFlags(env: NodeJS.ProcessEnv = process.env): string[] {
  return env[PLANT_FAULT_VARIABLE] === 'cpu-fault' ? ['-DES_TEST_CPU_FAULT=1'] : [];
}

/** Applies the fault the environment asks for to the lowered model's weights; returns the build-log note, or undefined. */
export function plantFault(lowered: LoweredModel, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const spec = env[PLANT_FAULT_VARIABLE];
  if (!spec) return undefined;
  if (spec === 'cpu-fault') return `TEST FAULT (${PLANT_FAULT_VARIABLE}): the platform's runner loads from an unmapped address before the model runs; this image faults on purpose`;
  const m = /^(zero-bias|requant-shift):(.+)$/.exec(spec);
  if (!m) throw new EdgespecError('bad-plant-fault', `${PLANT_FAULT_VARIABLE}=${spec} is not KIND:MODULE`, 'use zero-bias:MODULE, requant-shift:MODULE or cpu-fault (a test-only switch), or unset it');
  const kind = m[1] as FaultKind;
  const module = m[2];
  const entries = faultEntries(lowered, kind, module);
  if (entries.length === 0) {
    const candidates = [...new Set(lowered.blob.entries.filter(e => kind === 'requant-shift' ? isTable(e.name, 'shift') : true).map(e => e.module))].slice(0, 8);
    throw new EdgespecError('bad-plant-fault', `${PLANT_FAULT_VARIABLE}: layer ${module} has no ${kind === 'zero-bias' ? 'bias' : 'int8 requantization shift'} in this build`, `name a layer that has one, e.g. ${candidates.join(', ')}`);
  }
  const data = lowered.blob.data;
  for (const e of entries) {
    if (kind === 'zero-bias') data.fill(0, e.offset, e.offset + e.bytes);
    else for (let i = e.offset; i < e.offset + e.bytes; i++) data.writeInt8(Math.min(127, data.readInt8(i) + 1), i);
  }
  return `TEST FAULT (${PLANT_FAULT_VARIABLE}): ${kind === 'zero-bias' ? 'zeroed the bias' : 'added 1 to the requantization shifts'} of ${module} (${entries.map(e => e.name).join(', ')}); this image is wrong on purpose`;
}
