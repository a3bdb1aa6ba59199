/**
 * The parts of a PE/COFF image (a UEFI application, as objcopy -O pei-aarch64-little
 * writes it) that the footprint needs: the header size and each section's place in the
 * file and in memory.
 */
export interface PeSection {
  name: string;
  /** Relative virtual address: the ELF address it came from (the image is linked at 0). */
  rva: number;
  virtualSize: number;
  fileOffset: number;
  rawSize: number;
}

export interface PeImage {
  headersSize: number;
  imageBase: number;
  sections: PeSection[];
  fileSize: number;
}

export function isPeImage(data: Buffer): boolean {
  if (data.length < 0x40 || data.toString('latin1', 0, 2) !== 'MZ') return false;
  const pe = data.readUInt32LE(0x3c);
  return pe + 4 <= data.length && data.toString('latin1', pe, pe + 4) === 'PE\0\0';
}

export function parsePeImage(data: Buffer): PeImage {
  if (!isPeImage(data)) throw new Error('internal: not a PE image');
  const pe = data.readUInt32LE(0x3c);
  const coff = pe + 4;
  const sectionCount = data.readUInt16LE(coff + 2);
  const optionalSize = data.readUInt16LE(coff + 16);
  const optional = coff + 20;
  if (data.readUInt16LE(optional) !== 0x20b) throw new Error('internal: not a PE32+ image');
  const imageBase = Number(data.readBigUInt64LE(optional + 24));
  const headersSize = data.readUInt32LE(optional + 60);
  const sections: PeSection[] = [];
  for (let i = 0; i < sectionCount; i++) {
    const at = optional + optionalSize + 40 * i;
    sections.push({
      name: data.toString('latin1', at, at + 8).replace(/\0+$/, ''),
      virtualSize: data.readUInt32LE(at + 8),
      rva: data.readUInt32LE(at + 12),
      rawSize: data.readUInt32LE(at + 16),
      fileOffset: data.readUInt32LE(at + 20)
    });
  }
  return { headersSize, imageBase, sections, fileSize: data.length };
}
