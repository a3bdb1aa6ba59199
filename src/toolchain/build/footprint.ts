import { createHash } from 'crypto';
import { Footprint, FootprintKind, FootprintNode } from '../../common/types';
import { ElfFile, ElfSection, parseElf, PT_LOAD, SHF_ALLOC, SHF_EXECINSTR, SHF_TLS, SHF_WRITE, SHT_NOBITS } from './elf';
import { LinkerMap, MapInputSection } from './linkerMap';
import { isPeImage, parsePeImage, PeImage } from './peImage';
import { WeightsBlob } from './weightsBlob';

export interface FootprintInputs {
  model: string;
  target: string;
  dtype: 'float32' | 'int8';
  imageFile: string;
  /** The stripped image, byte for byte. */
  image: Buffer;
  /** The same link before strip (for RAM sections; addresses are identical). */
  linked: Buffer;
  map: LinkerMap;
  blob: WeightsBlob;
  /** Object file as the map names it (e.g. obj/model.o) → source (`model`, `platform`, `kernel:gemm.c`, `weights`). */
  objectSources: Map<string, string>;
  /** `kernel:<file>` → the edgespec ops it serves. */
  kernelOps: Map<string, string[]>;
  arena: { bytes: number; lowerBound: number };
  /** What the RAM total leaves out on this target. */
  ramNote: string;
  /** When `image` is a raw binary (rpi3's kernel8.img): the stripped ELF it was copied from. */
  rawOf?: Buffer;
}

interface Leaf {
  group: string;
  sub?: string;
  name: string;
  kind: FootprintKind;
  source: string;
  bytes: number;
}

/** Where the bytes of an object file come from. */
export function classifyObject(file: string, objectSources: Map<string, string>): string {
  const known = objectSources.get(file);
  if (known) return known;
  if (/libm\.a\(/.test(file)) return 'libm';
  if (/libgcc(_eh)?\.a\(|crtbegin|crtend/.test(file)) return 'libgcc';
  if (/lib(c|g|semihost|dummyhost)\.a\(|crt[0-9a-z_-]*\.o$|libc_nonshared/.test(file)) return 'libc';
  return file ? `object:${file}` : 'elf';
}

const GROUP_OF: Record<string, string> = { platform: 'platform', libc: 'libc', libm: 'libm', libgcc: 'libgcc', model: 'model', elf: 'elf' };

function sectionKind(s: ElfSection): FootprintKind {
  if (s.flags & SHF_EXECINSTR) return 'code';
  if (s.type === SHT_NOBITS) return 'bss';
  if (s.flags & SHF_WRITE) return 'data';
  return 'rodata';
}

/** Splits a range of the weights blob into per-layer bytes and alignment padding. */
function weightLeaves(blob: WeightsBlob, from: number, to: number): Leaf[] {
  const leaves: Leaf[] = [];
  let cursor = from;
  for (const e of blob.entries) {
    const start = Math.max(e.offset, from);
    const end = Math.min(e.offset + e.bytes, to);
    if (end <= start) continue;
    if (start > cursor) leaves.push({ group: 'elf', name: 'weights alignment padding', kind: 'rodata', source: 'elf', bytes: start - cursor });
    const layer = e.module || '(model)';
    leaves.push({ group: 'weights', name: layer, kind: 'weights', source: `layer:${e.module}`, bytes: end - start });
    cursor = end;
  }
  if (to > cursor) leaves.push({ group: 'elf', name: 'weights alignment padding', kind: 'rodata', source: 'elf', bytes: to - cursor });
  return leaves;
}

function leafFor(source: string, kind: FootprintKind, bytes: number, what: string): Leaf {
  if (source.startsWith('kernel:')) return { group: 'kernels', sub: source.slice('kernel:'.length), name: kind, kind, source, bytes };
  if (source.startsWith('object:')) return { group: 'other', sub: source.slice('object:'.length), name: kind, kind, source, bytes };
  if (source === 'elf') return { group: 'elf', name: what, kind, source, bytes };
  return { group: GROUP_OF[source] ?? 'other', name: kind, kind, source, bytes };
}

/** The input sections of one output section, clipped to it, in address order, with the gaps between them. */
function attributeSection(section: ElfSection, map: LinkerMap, inputs: FootprintInputs): Leaf[] {
  const kind = sectionKind(section);
  const start = section.addr;
  const end = section.addr + section.size;
  const pieces = map.inputSections
    .filter(i => i.outputSection === section.name && i.size > 0 && i.address < end && i.address + i.size > start)
    .sort((a, b) => a.address - b.address || b.size - a.size);
  const leaves: Leaf[] = [];
  let cursor = start;
  const gap = (to: number) => {
    if (to > cursor) leaves.push({ group: 'elf', name: `linker padding in ${section.name}`, kind, source: 'elf', bytes: to - cursor });
  };
  for (const piece of pieces) {
    const from = Math.max(piece.address, cursor);
    const to = Math.min(piece.address + piece.size, end);
    if (to <= from) continue;
    gap(from);
    leaves.push(...piecesOf(piece, from, to, kind, section, inputs));
    cursor = to;
  }
  gap(end);
  return leaves;
}

function piecesOf(piece: MapInputSection, from: number, to: number, kind: FootprintKind, section: ElfSection, inputs: FootprintInputs): Leaf[] {
  if (piece.name === '*fill*' || !piece.file) return [{ group: 'elf', name: `linker padding in ${section.name}`, kind, source: 'elf', bytes: to - from }];
  const source = classifyObject(piece.file, inputs.objectSources);
  if (source === 'weights') return weightLeaves(inputs.blob, from - piece.address, to - piece.address);
  return [leafFor(source, kind, to - from, piece.name)];
}

/** Every byte of the image file, attributed: ELF structures, then each section's contents. */
function flashLeaves(elf: ElfFile, inputs: FootprintInputs): Leaf[] {
  const ranges: { start: number; leaves: Leaf[]; end: number }[] = [];
  const add = (start: number, size: number, leaves: Leaf[]) => {
    if (size > 0) ranges.push({ start, end: start + size, leaves });
  };
  const elfLeaf = (name: string, bytes: number): Leaf => ({ group: 'elf', name, kind: 'rodata', source: 'elf', bytes });
  add(0, elf.headerSize, [elfLeaf('ELF header', elf.headerSize)]);
  add(elf.programHeaders.offset, elf.programHeaders.size, [elfLeaf('program headers', elf.programHeaders.size)]);
  add(elf.sectionHeaders.offset, elf.sectionHeaders.size, [elfLeaf('section headers', elf.sectionHeaders.size)]);
  for (const s of elf.sections) {
    if (s.index === 0 || s.type === SHT_NOBITS || s.size === 0) continue;
    if (s.flags & SHF_ALLOC) add(s.offset, s.size, attributeSection(s, inputs.map, inputs));
    else add(s.offset, s.size, [elfLeaf(`section ${s.name}`, s.size)]);
  }
  ranges.sort((a, b) => a.start - b.start);
  const leaves: Leaf[] = [];
  let cursor = 0;
  for (const r of ranges) {
    if (r.start < cursor) throw new Error(`internal: footprint ranges overlap at file offset ${r.start}`);
    if (r.start > cursor) leaves.push(elfLeaf('file alignment padding', r.start - cursor));
    leaves.push(...r.leaves);
    cursor = r.end;
  }
  if (elf.fileSize > cursor) leaves.push(elfLeaf('file alignment padding', elf.fileSize - cursor));
  return leaves;
}

/**
 * Every byte of a PE/COFF image (efi: objcopy of the linked ELF, whose sections sit at the
 * same addresses): the PE headers, then each PE section's contents as the ELF sections
 * within it, the rest file alignment padding.
 */
function peFlashLeaves(pe: PeImage, linked: ElfFile, inputs: FootprintInputs): Leaf[] {
  const peLeaf = (name: string, bytes: number): Leaf => ({ group: 'elf', name, kind: 'rodata', source: 'elf', bytes });
  const leaves: Leaf[] = [peLeaf('PE headers', pe.headersSize)];
  let cursor = pe.headersSize;
  const loaded = linked.sections.filter(s => s.flags & SHF_ALLOC && s.type !== SHT_NOBITS && s.size > 0).sort((a, b) => a.addr - b.addr);
  for (const section of [...pe.sections].filter(s => s.rawSize > 0).sort((a, b) => a.fileOffset - b.fileOffset)) {
    if (section.fileOffset < cursor) throw new Error(`internal: PE sections overlap at file offset ${section.fileOffset}`);
    if (section.fileOffset > cursor) leaves.push(peLeaf('file alignment padding', section.fileOffset - cursor));
    const end = section.rva + Math.min(section.virtualSize, section.rawSize);
    let at = section.rva;
    for (const elf of loaded.filter(e => e.addr >= section.rva && e.addr + e.size <= end)) {
      if (elf.addr > at) leaves.push(peLeaf(`padding in ${section.name}`, elf.addr - at));
      leaves.push(...attributeSection(elf, inputs.map, inputs));
      at = elf.addr + elf.size;
    }
    if (section.rva + section.rawSize > at) leaves.push(peLeaf('file alignment padding', section.rva + section.rawSize - at));
    cursor = section.fileOffset + section.rawSize;
  }
  if (pe.fileSize > cursor) leaves.push(peLeaf('file alignment padding', pe.fileSize - cursor));
  return leaves;
}

/**
 * Every byte of a raw binary (objcopy -O binary of `elf`): each loaded section at its load
 * address less the lowest one, the gaps between them padding.
 */
function rawFlashLeaves(elf: ElfFile, imageBytes: number, inputs: FootprintInputs): Leaf[] {
  const padding = (bytes: number): Leaf => ({ group: 'elf', name: 'load address padding', kind: 'rodata', source: 'elf', bytes });
  const loadAddress = (s: ElfSection): number => {
    const segment = elf.segments.find(g => g.type === PT_LOAD && s.offset >= g.offset && s.offset + s.size <= g.offset + g.filesz);
    if (!segment) throw new Error(`internal: section ${s.name} is in no PT_LOAD segment`);
    return segment.paddr + (s.offset - segment.offset);
  };
  const loaded = elf.sections
    .filter(s => s.flags & SHF_ALLOC && s.type !== SHT_NOBITS && s.size > 0)
    .map(s => ({ section: s, at: loadAddress(s) }))
    .sort((a, b) => a.at - b.at);
  const base = loaded.length ? loaded[0].at : 0;
  const leaves: Leaf[] = [];
  let cursor = 0;
  for (const { section, at } of loaded) {
    const offset = at - base;
    if (offset < cursor) throw new Error(`internal: sections overlap at raw offset ${offset}`);
    if (offset > cursor) leaves.push(padding(offset - cursor));
    leaves.push(...attributeSection(section, inputs.map, inputs));
    cursor = offset + section.size;
  }
  if (imageBytes > cursor) leaves.push(padding(imageBytes - cursor));
  return leaves;
}

/**
 * Bytes that exist only at run time: writable and zero-initialised sections of the linked
 * ELF. A section that only reserves the span of another (.tbss_space over .tbss) is counted
 * once; an unmapped guard region is address space, not memory, and is left out.
 */
function ramLeaves(elf: ElfFile, inputs: FootprintInputs): Leaf[] {
  const candidates = elf.sections
    .filter(s => s.flags & SHF_ALLOC && s.size > 0 && (s.type === SHT_NOBITS || s.flags & SHF_WRITE) && !/guard/.test(s.name))
    .sort((a, b) => a.addr - b.addr || (b.flags & SHF_TLS) - (a.flags & SHF_TLS) || a.index - b.index);
  const leaves: Leaf[] = [];
  const counted: [number, number][] = [];
  for (const s of candidates) {
    const within = counted.some(([from, to]) => s.addr >= from && s.addr + s.size <= to);
    if (within) continue;
    counted.push([s.addr, s.addr + s.size]);
    if (/stack/.test(s.name)) {
      leaves.push({ group: 'stack', name: s.name.replace(/^\.(edgespec\.)?/, '').replace(/_/g, ' '), kind: 'stack', source: 'platform', bytes: s.size });
      continue;
    }
    const pieces = inputs.map.inputSections.filter(i => i.outputSection === s.name && i.size > 0 && i.file);
    if (pieces.length === 0) {
      leaves.push({ group: 'bss', name: s.name.replace(/^\.(edgespec\.)?/, '').replace(/_/g, ' '), kind: s.type === SHT_NOBITS ? 'bss' : 'data', source: 'platform', bytes: s.size });
      continue;
    }
    let attributed = 0;
    for (const piece of pieces) {
      const source = classifyObject(piece.file, inputs.objectSources);
      const kind: FootprintKind = s.type === SHT_NOBITS ? 'bss' : 'data';
      if (source === 'model' && /es_arena/.test(piece.name)) leaves.push({ group: 'arena', name: 'arena', kind: 'arena', source: 'model', bytes: piece.size });
      else leaves.push({ group: kind, name: source, kind, source, bytes: piece.size });
      attributed += piece.size;
    }
    if (s.size > attributed) leaves.push({ group: sectionKind(s) === 'bss' ? 'bss' : 'data', name: 'elf', kind: sectionKind(s) === 'bss' ? 'bss' : 'data', source: 'elf', bytes: s.size - attributed });
  }
  return leaves;
}

const FLASH_GROUPS = ['elf', 'platform', 'libc', 'libm', 'libgcc', 'kernels', 'model', 'weights', 'other'];
const RAM_GROUPS = ['arena', 'stack', 'data', 'bss'];
const GROUP_TITLES: Record<string, string> = {
  elf: 'ELF structure and padding', platform: 'platform (boot, I/O, faults)', libc: 'libc', libm: 'libm', libgcc: 'libgcc',
  kernels: 'op kernels', model: 'model schedule', weights: 'weights', other: 'other objects',
  arena: 'arena', stack: 'stack', data: 'initialised data', bss: 'other bss'
};

/** Groups leaves (summing equal ones) into named groups in a fixed order; leaves sorted by name. */
function tree(name: string, leaves: Leaf[], groups: string[]): FootprintNode {
  const children: FootprintNode[] = [];
  for (const group of groups) {
    const mine = leaves.filter(l => l.group === group);
    if (mine.length === 0) continue;
    const subs = [...new Set(mine.map(l => l.sub ?? ''))].sort();
    const nodes: FootprintNode[] = subs.flatMap(sub => {
      const ofSub = merge(mine.filter(l => (l.sub ?? '') === sub));
      if (!sub) return ofSub;
      return [{ name: sub, bytes: sum(ofSub), source: ofSub[0].source, children: ofSub }];
    });
    children.push({ name: GROUP_TITLES[group] ?? group, bytes: sum(nodes), children: nodes });
  }
  return { name, bytes: sum(children), children };
}

function merge(leaves: Leaf[]): FootprintNode[] {
  const byKey = new Map<string, FootprintNode>();
  for (const l of leaves) {
    const key = `${l.name}\u0000${l.kind}\u0000${l.source}`;
    const node = byKey.get(key);
    if (node) node.bytes += l.bytes;
    else byKey.set(key, { name: l.name, bytes: l.bytes, kind: l.kind, source: l.source });
  }
  return [...byKey.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : (a.kind ?? '') < (b.kind ?? '') ? -1 : 1));
}

function sum(nodes: { bytes: number }[]): number {
  return nodes.reduce((s, n) => s + n.bytes, 0);
}

/** footprint.json from the linked ELF, the stripped image and the linker map: measured, not estimated. */
export function measureFootprint(inputs: FootprintInputs): Footprint {
  const pe = isPeImage(inputs.image) ? parsePeImage(inputs.image) : undefined;
  const raw = inputs.rawOf ? parseElf(inputs.rawOf) : undefined;
  const image = pe ? undefined : parseElf(raw ? inputs.rawOf! : inputs.image);
  const linked = parseElf(inputs.linked);
  const flash = tree('flash', pe ? peFlashLeaves(pe, linked, inputs) : raw ? rawFlashLeaves(raw, inputs.image.length, inputs) : flashLeaves(image!, inputs), FLASH_GROUPS);
  if (flash.bytes !== inputs.image.length) throw new Error(`internal: footprint attributes ${flash.bytes} bytes of a ${inputs.image.length}-byte image`);
  const ram = tree('ram', ramLeaves(linked, inputs), RAM_GROUPS);
  const loadBytes = pe ? pe.sections.reduce((n, s) => n + Math.min(s.rawSize, s.virtualSize), 0) : raw ? inputs.image.length : image!.segments.filter(s => s.type === PT_LOAD).reduce((n, s) => n + s.filesz, 0);
  const imageBytes = inputs.image.length;
  const weightsBytes = inputs.blob.tensorBytes;
  const padding = inputs.blob.data.length - weightsBytes;

  const kernelBytes = new Map<string, number>();
  const walk = (node: FootprintNode) => {
    if (node.source?.startsWith('kernel:') && !node.children) kernelBytes.set(node.source, (kernelBytes.get(node.source) ?? 0) + node.bytes);
    node.children?.forEach(walk);
  };
  walk(flash);
  const kernels = [...inputs.kernelOps.entries()]
    .map(([source, ops]) => ({ name: source.slice('kernel:'.length), ops: [...ops].sort(), bytes: kernelBytes.get(source) ?? 0 }))
    .sort((a, b) => (a.name < b.name ? -1 : 1));

  return {
    format: 'edgespec.footprint',
    version: 1,
    model: inputs.model,
    target: inputs.target,
    dtype: inputs.dtype,
    image: { file: inputs.imageFile, bytes: imageBytes, sha256: createHash('sha256').update(inputs.image).digest('hex') },
    tree: { name: inputs.model, bytes: flash.bytes + ram.bytes, children: [flash, ram] },
    totals: {
      image_bytes: { value: imageBytes, how: pe ? `st_size of ${inputs.imageFile}, the PE/COFF application objcopy made of the stripped ELF` : raw ? `st_size of ${inputs.imageFile}, the raw binary objcopy -O binary made of the stripped ELF (what the firmware loads)` : `st_size of ${inputs.imageFile} after strip` },
      weights_bytes: {
        value: weightsBytes,
        how: `sum of the ${inputs.blob.entries.length} packed ${inputs.dtype === 'int8' ? 'int8 weight, int32 bias and requantization' : 'fp32 weight'} tensors in section .edgespec.weights (their ${padding} bytes of 64-byte alignment padding count as overhead)`
      },
      overhead_bytes: { value: imageBytes - weightsBytes, how: 'image_bytes - weights_bytes: boot and platform code, libc, kernels, schedule, ELF headers and padding' },
      flash_bytes: { value: loadBytes, how: raw ? `st_size of ${inputs.imageFile}: the firmware loads all of it` : pe ? `sum over the PE sections of ${inputs.imageFile} of their contents' bytes (the lesser of SizeOfRawData and VirtualSize): the bytes loaded into memory` : `sum of p_filesz of the PT_LOAD segments of ${inputs.imageFile}: the bytes loaded into memory` },
      peak_ram_bytes: {
        value: ram.bytes,
        how: `sum of the writable and zero-initialised sections of the linked ELF (data, bss with the arena${ram.children?.some(c => c.name === 'stack') ? ', stacks, heap' : ''}); ${inputs.ramNote}`
      }
    },
    arena: {
      bytes: inputs.arena.bytes,
      lower_bound: inputs.arena.lowerBound,
      how: 'static plan over the schedule (liveness, greedy placement with best fit, the smallest of four orders, each at the bottom or the top of the gaps, 64-byte aligned); lower bound = the largest sum of 64-byte aligned sizes of tensors live at one step'
    },
    kernels
  };
}
