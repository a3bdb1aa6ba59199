// Reads the input sections of a GNU ld map (-Wl,-Map): which object file put how many
// bytes at which address of which output section.

export interface MapInputSection {
  outputSection: string;
  /** Input section name, e.g. .text.es_gemm_f32; `*fill*` for linker padding. */
  name: string;
  address: number;
  size: number;
  /** The object file or archive member, e.g. obj/model.o or /usr/lib/.../libc.a(memcpy.o); empty for fill. */
  file: string;
}

export interface LinkerMap {
  inputSections: MapInputSection[];
}

const HEX = '0x([0-9a-fA-F]+)';
const OUTPUT_SECTION = new RegExp(`^(\\S+)(?:\\s+${HEX}\\s+${HEX})?\\s*$`);
const OUTPUT_SECTION_WITH_LOAD = new RegExp(`^(\\S+)\\s+${HEX}\\s+${HEX}\\s+load address`);
const INPUT_SECTION = new RegExp(`^ (\\S+)\\s+${HEX}\\s+${HEX}(?:\\s+(.*))?$`);
const NAME_ONLY = /^ (\S+)\s*$/;
const CONTINUATION = new RegExp(`^\\s+${HEX}\\s+${HEX}(?:\\s+(.*))?$`);
const NOT_SECTIONS = /^(LOAD|OUTPUT|START GROUP|END GROUP|INSERT|TARGET)\b/;

function hex(text: string): number {
  return parseInt(text, 16);
}

export function parseLinkerMap(text: string): LinkerMap {
  const lines = text.split('\n');
  const start = lines.findIndex(l => l.startsWith('Linker script and memory map'));
  const inputSections: MapInputSection[] = [];
  let output = '';
  let outputContinues = false;
  let pendingInput = '';
  for (let i = start < 0 ? 0 : start + 1; i < lines.length; i++) {
    const line = lines[i].replace(/\r$/, '');
    if (pendingInput) {
      const m = CONTINUATION.exec(line);
      if (m) inputSections.push({ outputSection: output, name: pendingInput, address: hex(m[1]), size: hex(m[2]), file: (m[3] ?? '').trim() });
      pendingInput = '';
      continue;
    }
    if (outputContinues) {
      outputContinues = false;
      if (CONTINUATION.test(line)) continue;
    }
    if (line.length === 0) continue;
    if (!/^\s/.test(line)) {
      if (NOT_SECTIONS.test(line)) continue;
      const withLoad = OUTPUT_SECTION_WITH_LOAD.exec(line);
      const m = withLoad ?? OUTPUT_SECTION.exec(line);
      if (!m) continue;
      output = m[1];
      // A long name stands alone; its address and size follow on the next line.
      outputContinues = m[2] === undefined;
      continue;
    }
    if (line.startsWith(' *fill*')) {
      const m = new RegExp(`^ \\*fill\\*\\s+${HEX}\\s+${HEX}`).exec(line);
      if (m) inputSections.push({ outputSection: output, name: '*fill*', address: hex(m[1]), size: hex(m[2]), file: '' });
      continue;
    }
    if (line.startsWith(' *') || line.startsWith('  ')) continue;
    const input = INPUT_SECTION.exec(line);
    if (input) {
      inputSections.push({ outputSection: output, name: input[1], address: hex(input[2]), size: hex(input[3]), file: (input[4] ?? '').trim() });
      continue;
    }
    const nameOnly = NAME_ONLY.exec(line);
    if (nameOnly) pendingInput = nameOnly[1];
  }
  return { inputSections };
}
