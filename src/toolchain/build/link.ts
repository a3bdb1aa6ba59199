import { promises as fs } from 'fs';
import * as path from 'path';
import { BuildLog, COMPILER_PROBE, runTool } from './compile';
import { parseElf } from './elf';
import { explainLinkOverflow } from './memoryCheck';
import { emitSymbolTable, functionSymbols, sameAddresses } from './symbolTable';
import { expandFlags, FlagValues, TargetSpec } from './targets';

/** The platform's compile flags, plus function and data sections for --gc-sections if it lacks them. */
export function compileFlags(target: TargetSpec, values: FlagValues): string[] {
  const flags = expandFlags(target.cflags, values);
  for (const f of ['-ffunction-sections', '-fdata-sections']) if (!flags.includes(f)) flags.push(f);
  return flags;
}

async function link(target: TargetSpec, objects: string[], dir: string, log: BuildLog, values: FlagValues): Promise<void> {
  const flags = expandFlags(target.ldflags, values);
  if (!target.ldflags.some(f => f.includes('${MAP}'))) flags.push(`-Wl,-Map=${values.MAP}`);
  if (!target.ldflags.some(f => f.includes('${IMAGE}'))) flags.push('-o', values.IMAGE);
  if (!flags.includes('-Wl,--gc-sections')) flags.push('-Wl,--gc-sections');
  try {
    await runTool(target.cc, [...flags, ...objects, ...target.libs], dir, log, 'linking the image', COMPILER_PROBE);
  } catch (e) {
    throw explainLinkOverflow(e, target);
  }
}

/**
 * Links once, reads the function addresses, generates the fault symbol table and links
 * again with it; the table sits last in the image, so no function moves (checked).
 */
export async function linkWithSymbolTable(target: TargetSpec, objects: string[], dir: string, log: BuildLog, flags: string[], values: FlagValues): Promise<void> {
  await link(target, objects, dir, log, values);
  if (!target.symbolTable) return;
  let symbols = functionSymbols(parseElf(await fs.readFile(path.join(dir, values.IMAGE))));
  for (let attempt = 0; attempt < 3; attempt++) {
    await fs.writeFile(path.join(dir, 'symbols.c'), emitSymbolTable(symbols));
    await runTool(target.cc, [...flags, '-frandom-seed=obj/symbols.o', '-c', 'symbols.c', '-o', 'obj/symbols.o'], dir, log, 'compiling the symbol table', COMPILER_PROBE);
    await link(target, [...objects, 'obj/symbols.o'], dir, log, values);
    const relinked = functionSymbols(parseElf(await fs.readFile(path.join(dir, values.IMAGE))));
    if (sameAddresses(symbols, relinked)) return;
    symbols = relinked;
  }
  throw new Error('internal: function addresses keep moving when the symbol table is linked in');
}

/** The image file: the linked ELF without symbols or the toolchain's .comment. */
export async function strip(target: TargetSpec, linked: string, image: string, dir: string, log: BuildLog): Promise<void> {
  await runTool(target.strip, ['--strip-all', '-R', '.comment', '-o', image, linked], dir, log, 'stripping the image');
}
