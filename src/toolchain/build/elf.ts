// A small reader of 64-bit little-endian ELF files: headers, sections, segments, symbols.
// Enough for the footprint and the fault symbol table; deterministic and tool-free.

export const SHT_NOBITS = 8;
export const SHT_SYMTAB = 2;
export const SHF_WRITE = 0x1;
export const SHF_ALLOC = 0x2;
export const SHF_EXECINSTR = 0x4;
export const SHF_TLS = 0x400;
export const PT_LOAD = 1;
export const STT_FUNC = 2;

export interface ElfSection {
  index: number;
  name: string;
  type: number;
  flags: number;
  addr: number;
  offset: number;
  size: number;
  addralign: number;
}

export interface ElfSegment {
  type: number;
  offset: number;
  vaddr: number;
  paddr: number;
  filesz: number;
  memsz: number;
}

export interface ElfSymbol {
  name: string;
  value: number;
  size: number;
  type: number;
  bind: number;
  sectionIndex: number;
}

export interface ElfFile {
  machine: number;
  fileSize: number;
  headerSize: number;
  programHeaders: { offset: number; size: number };
  sectionHeaders: { offset: number; size: number };
  sections: ElfSection[];
  segments: ElfSegment[];
  symbols: ElfSymbol[];
}

export class ElfFormatError extends Error {}

function num(value: bigint, what: string): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new ElfFormatError(`${what} ${value} is too large`);
  return Number(value);
}

function cstring(buf: Buffer, offset: number): string {
  const end = buf.indexOf(0, offset);
  return buf.toString('latin1', offset, end < 0 ? buf.length : end);
}

export function parseElf(buf: Buffer): ElfFile {
  if (buf.length < 64 || buf.readUInt32BE(0) !== 0x7f454c46) throw new ElfFormatError('not an ELF file');
  if (buf[4] !== 2) throw new ElfFormatError('not a 64-bit ELF file');
  if (buf[5] !== 1) throw new ElfFormatError('not a little-endian ELF file');
  const u16 = (o: number) => buf.readUInt16LE(o);
  const u32 = (o: number) => buf.readUInt32LE(o);
  const u64 = (o: number, what: string) => num(buf.readBigUInt64LE(o), what);

  const machine = u16(18);
  const phoff = u64(32, 'e_phoff');
  const shoff = u64(40, 'e_shoff');
  const headerSize = u16(52);
  const phentsize = u16(54);
  const phnum = u16(56);
  const shentsize = u16(58);
  const shnum = u16(60);
  const shstrndx = u16(62);

  const raw = [];
  for (let i = 0; i < shnum; i++) {
    const o = shoff + i * shentsize;
    raw.push({
      index: i, nameOffset: u32(o), type: u32(o + 4), flags: u64(o + 8, 'sh_flags'), addr: u64(o + 16, 'sh_addr'),
      offset: u64(o + 24, 'sh_offset'), size: u64(o + 32, 'sh_size'), link: u32(o + 40), addralign: u64(o + 48, 'sh_addralign'),
      entsize: u64(o + 56, 'sh_entsize')
    });
  }
  const names = raw[shstrndx];
  const sections: ElfSection[] = raw.map(s => ({
    index: s.index, name: names ? cstring(buf, names.offset + s.nameOffset) : '', type: s.type, flags: s.flags,
    addr: s.addr, offset: s.offset, size: s.size, addralign: s.addralign
  }));

  const segments: ElfSegment[] = [];
  for (let i = 0; i < phnum; i++) {
    const o = phoff + i * phentsize;
    segments.push({
      type: u32(o), offset: u64(o + 8, 'p_offset'), vaddr: u64(o + 16, 'p_vaddr'), paddr: u64(o + 24, 'p_paddr'),
      filesz: u64(o + 32, 'p_filesz'), memsz: u64(o + 40, 'p_memsz')
    });
  }

  const symbols: ElfSymbol[] = [];
  for (const s of raw) {
    if (s.type !== SHT_SYMTAB || s.entsize === 0) continue;
    const strtab = raw[s.link];
    for (let o = s.offset + s.entsize; o + 24 <= s.offset + s.size; o += s.entsize) {
      const info = buf[o + 4];
      symbols.push({
        name: cstring(buf, strtab.offset + u32(o)), value: u64(o + 8, 'st_value'), size: u64(o + 16, 'st_size'),
        type: info & 0xf, bind: info >> 4, sectionIndex: u16(o + 6)
      });
    }
  }
  return {
    machine, fileSize: buf.length, headerSize,
    programHeaders: { offset: phoff, size: phnum * phentsize },
    sectionHeaders: { offset: shoff, size: shnum * shentsize },
    sections, segments, symbols
  };
}
