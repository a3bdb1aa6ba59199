/**
 * qemu-virt's memory map sized from the model (issue 13). edgespec.ld's defaults (a 256 MiB
 * image region at 0x40000000, 512 MiB of RAM, a 256 MiB input region, QEMU -m 1G) stay the
 * map of every model that fits them; a model that does not gets regions grown to what it
 * needs, passed to the link as --defsym overrides, and QEMU's -m just large enough to hold
 * them. The image's MMU (platform/qemu-virt/mmu.c) maps whatever the linker symbols say, up
 * to 4 GiB, the end of the input region the linker script allows.
 */
import { EdgespecError } from '../errors';
import { MemoryNeeds } from './memoryCheck';
import { MemoryRegion, TargetSpec } from './targets';

const MIB = 1024 * 1024;
const BLOCK = 2 * MIB;
/** virt's RAM starts at 1 GiB; the linker script wants the input region to end below 4 GiB. */
const RAM_START = 0x40000000;
const ADDRESS_END = 0x100000000;
/** Room in the image region for code, read-only data and the fault symbol table beside the weights (a build's code is well under 1 MiB). */
export const CODE_ALLOWANCE = 8 * MIB;
/** Room in RAM beside the arena and outputs: data, bss, heap, exception stack, page tables, the 2 MiB stack guard and its alignment, the stack. */
export const RAM_ALLOWANCE = 8 * MIB;

/** The memory map an image is linked with and QEMU is started with. */
export interface SizedMap {
  regions: MemoryRegion[];
  /** QEMU's -m. */
  memory: string;
  inputAddress: string;
  /** -Wl,--defsym=... for the regions that differ from edgespec.ld's defaults. */
  defsyms: string[];
}

const up = (n: number) => Math.ceil(n / BLOCK) * BLOCK;
const hex = (n: number) => `0x${n.toString(16)}`;
const mib = (n: number) => `${(n / MIB).toFixed(1)} MiB`;

/**
 * The map for these needs: each region at least its default size, grown to what the model
 * needs (plus the allowances) in 2 MiB steps, laid out image, RAM, input from 1 GiB up.
 * Undefined when the target's map is not sized from the model (all but qemu-virt).
 */
export function sizedMap(target: TargetSpec, needs: MemoryNeeds): SizedMap | undefined {
  if (target.name !== 'qemu-virt' || !target.qemu) return undefined;
  const defaults = new Map(target.memory.map(r => [r.name, r]));
  const image = defaults.get('image'), ram = defaults.get('ram'), input = defaults.get('input');
  if (!image || !ram || !input) throw new Error('internal: qemu-virt has no image, ram and input regions');
  const imageSize = Math.max(image.size, up(needs.needed.image + CODE_ALLOWANCE));
  const ramSize = Math.max(ram.size, up(needs.needed.ram + RAM_ALLOWANCE));
  const inputSize = Math.max(input.size, up(needs.needed.input));
  if (imageSize === image.size && ramSize === ram.size && inputSize === input.size) {
    return { regions: target.memory, memory: target.qemu.memory, inputAddress: target.qemu.input_address, defsyms: [] };
  }
  const regions: MemoryRegion[] = [
    { name: 'image', base: image.base, size: imageSize },
    { name: 'ram', base: image.base + imageSize, size: ramSize },
    { name: 'input', base: image.base + imageSize + ramSize, size: inputSize }
  ];
  const end = regions[2].base + inputSize;
  if (end > ADDRESS_END) {
    const total = needs.needed.image + needs.needed.ram + needs.needed.input;
    throw new EdgespecError(
      'model-too-large',
      `the model does not fit qemu-virt: its weights and code, arena and outputs, and input need ${total + CODE_ALLOWANCE + RAM_ALLOWANCE} bytes (${mib(total + CODE_ALLOWANCE + RAM_ALLOWANCE)}: image ${mib(needs.needed.image)} + ${mib(CODE_ALLOWANCE)} for code, RAM ${mib(needs.needed.ram)} + ${mib(RAM_ALLOWANCE)}, input ${mib(needs.needed.input)}), more than the ${mib(ADDRESS_END - image.base)} between ${hex(image.base)} and 4 GiB the image can use`,
      'make the model smaller (fewer or smaller weights, or --dtype int8 for a quarter of the float32 weights), or build it for host or linux',
      { needed: total, available: ADDRESS_END - image.base }
    );
  }
  return {
    regions,
    memory: `${(end - RAM_START) / MIB}M`,
    inputAddress: hex(regions[2].base),
    defsyms: regions.flatMap(r => [`-Wl,--defsym=__es_${r.name}_base=${hex(r.base)}`, `-Wl,--defsym=__es_${r.name}_size=${hex(r.size)}`])
  };
}

/** The target with its map sized for these needs: regions, link flags and QEMU's -m and input address. */
export function withSizedMap(target: TargetSpec, needs: MemoryNeeds): TargetSpec {
  const map = sizedMap(target, needs);
  if (!map || map.defsyms.length === 0 || !target.qemu) return target;
  return {
    ...target,
    memory: map.regions,
    ldflags: [...target.ldflags, ...map.defsyms],
    qemu: { ...target.qemu, memory: map.memory, input_address: map.inputAddress }
  };
}
