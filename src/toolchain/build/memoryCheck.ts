import { EdgespecError } from '../errors';
import { LoweredModel } from './lowerModel';
import { MemoryRegion, TargetSpec } from './targets';

const MIB = 1024 * 1024;

/** Bytes of an I/O file (kernels/include/edgespec/io_format.h) holding tensors of these sizes. */
export function ioFileBytes(sizes: number[]): number {
  const up = (n: number) => Math.ceil(n / 64) * 64;
  return up(24 + 4 * sizes.length) + sizes.reduce((s, b) => s + up(b), 0);
}

export interface MemoryNeeds {
  regions: MemoryRegion[];
  /** Bytes each region needs at least, known before linking. */
  needed: Record<string, number>;
}

/** What the model needs of each region before linking: weights in the image, arena and outputs in RAM, the input file. */
export function memoryNeeds(target: TargetSpec, lowered: LoweredModel): MemoryNeeds {
  const regions = target.memory;
  const outputs = lowered.schedule.outputs.reduce((s, o) => s + Math.ceil(o.bytes / 64) * 64, 0);
  return {
    regions,
    needed: {
      image: lowered.blob.data.length,
      // without an input region (rpi3), the input buffer is in RAM too
      ram: lowered.plan.arenaBytes + outputs + (regions.some(r => r.name === 'input') ? 0 : ioFileBytes(lowered.schedule.inputs.map(i => i.bytes))),
      input: ioFileBytes(lowered.schedule.inputs.map(i => i.bytes))
    }
  };
}

const WHAT: Record<string, string> = {
  image: 'image region (code and weights)',
  ram: 'RAM region (arena, outputs, stack, data)',
  input: 'input region (where QEMU loads the input file)'
};

function tooLarge(target: TargetSpec, region: MemoryRegion, needed: number, atLeast: boolean): EdgespecError {
  const mib = (n: number) => `${(n / MIB).toFixed(1)} MiB`;
  return new EdgespecError(
    'model-too-large',
    `the model does not fit ${target.name}: it needs ${atLeast ? 'at least ' : ''}${needed} bytes (${mib(needed)}) of the ${WHAT[region.name]}, which has ${region.size} bytes (${mib(region.size)})`,
    `make the model smaller, or enlarge the region in kernels/platform/${target.name}/edgespec.ld (__es_${region.name}_size) and QEMU's -m`,
    { region: region.name, needed, available: region.size }
  );
}

export function checkMemoryBeforeLink(target: TargetSpec, needs: MemoryNeeds): void {
  for (const region of needs.regions) {
    const needed = needs.needed[region.name];
    if (needed !== undefined && needed > region.size) throw tooLarge(target, region, needed, region.name !== 'input');
  }
}

/** Turns ld's "region `ram' overflowed by N bytes" into the same error with needed vs available. */
export function explainLinkOverflow(error: unknown, target: TargetSpec): unknown {
  if (!(error instanceof EdgespecError)) return error;
  const m = /region `?'?(\w+)'? overflowed by (\d+) bytes/.exec(error.message);
  const region = m ? target.memory.find(r => r.name === m[1]) : undefined;
  if (!m || !region) return error;
  return tooLarge(target, region, region.size + Number(m[2]), false);
}
