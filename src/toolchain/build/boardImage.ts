/**
 * The files a board target (rpi3) adds to its build: the raw image the board's firmware loads
 * (kernel8.img: objcopy -O binary of the stripped ELF, its bytes from the lowest load address
 * on) and the config.txt lines it needs on the SD card's boot partition.
 */
import { promises as fs } from 'fs';
import * as path from 'path';
import { BuildLog, runTool } from './compile';
import { TargetSpec } from './targets';

/** The objcopy of the compiler's toolchain, beside its strip. */
function objcopyFor(target: TargetSpec): string {
  return target.strip.replace(/strip$/, 'objcopy');
}

/** Writes kernel8.img and config.txt beside `elf` in `dir`; returns the raw image's file name. */
export async function writeBoardImages(target: TargetSpec, elf: string, dir: string, log: BuildLog): Promise<string> {
  const board = target.board;
  if (!board) throw new Error(`internal: ${target.name} is not a board target`);
  await runTool(objcopyFor(target), ['-O', 'binary', elf, board.rawImage], dir, log, `making ${board.rawImage} from ${elf}`);
  const text = [
    `# The lines ${board.rawImage} needs in config.txt on the boot partition (written by edgespec build for ${target.name}).`,
    `# Its UART (GPIO 14/15, header pins 8 and 10) runs at ${board.baud} baud, 8N1.`,
    ...board.configTxt.lines,
    ''
  ].join('\n');
  await fs.writeFile(path.join(dir, board.configTxt.file), text);
  return board.rawImage;
}
