import { promises as fs } from 'fs';
import * as path from 'path';
import { BuildManifest, Graph, GraphIO } from '../../common/types';
import { encodedIoFileBytes } from '../guest/ioFile';
import { makeFatDisk } from '../efi/fatDisk';
import { BuildLog, runTool } from './compile';
import { TargetSpec } from './targets';

/** The ELF toolchain's objcopy: aarch64-linux-gnu-strip → aarch64-linux-gnu-objcopy. */
function objcopyFor(strip: string): string {
  return strip.replace(/strip$/, 'objcopy');
}

/**
 * efi: turns the stripped ELF into the UEFI application (objcopy -O pei-aarch64-little) and
 * writes the bootable disk image holding it as EFI/BOOT/BOOTAA64.EFI, with room for the
 * model's input.bin and output.bin. Returns the application's file name.
 */
export async function writeEfiImages(target: TargetSpec, elf: string, dir: string, log: BuildLog, graph: Graph): Promise<string> {
  const efi = target.efi!;
  await runTool(objcopyFor(target.strip), [...efi.objcopy, elf, efi.app], dir, log, `making ${efi.app} (PE/COFF) from the ELF`);
  // mcopy -m keeps the file's time: a fixed one (FAT's epoch) keeps the disk image deterministic
  const fatEpoch = new Date('1980-01-01T00:00:00Z');
  await fs.utimes(path.join(dir, efi.app), fatEpoch, fatEpoch);
  const bytes = (list: GraphIO[]) => list.map(io => io.shape.reduce((a, b) => a * b, 1) * 4);
  const spare = 2 * (encodedIoFileBytes(bytes(graph.inputs)) + encodedIoFileBytes(bytes(graph.outputs)));
  await makeFatDisk(path.join(dir, efi.diskImage), [{ source: path.join(dir, efi.app), dest: `EFI/BOOT/${efi.app}` }], spare,
    (file, args, what) => runTool(file, args, dir, log, what).then(() => undefined));
  return efi.app;
}

/** build.json's efi section. */
export function efiManifest(target: TargetSpec, elf: string): BuildManifest['efi'] {
  const efi = target.efi!;
  return { elf, disk_image: efi.diskImage, machine: efi.machine, cpu: efi.cpu, memory: efi.memory, firmware_code: efi.firmwareCode, firmware_vars: efi.firmwareVars };
}
