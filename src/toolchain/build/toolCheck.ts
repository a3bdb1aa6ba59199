import { EdgespecError } from '../errors';
import { findOnPath } from '../tools/locate';
import { requireTool } from '../tools/tools';
import { TargetSpec } from './targets';
import { requireDiskTools } from '../efi/fatDisk';

/**
 * Fails before any work when the target's compiler is missing, with the doctor's message
 * (which names the install command).
 */
export async function requireCompiler(target: TargetSpec): Promise<void> {
  if (target.compilerTool) {
    await requireTool(target.compilerTool);
    if (target.name === 'qemu-virt' || target.name === 'rpi3' || target.name === 'efi') await requireTool('picolibc');
  }
  if (target.efi) requireDiskTools();
  if (target.board) await requireTool('aarch64-objcopy');
  for (const tool of [target.cc, target.strip]) {
    if (!findOnPath(tool)) {
      throw new EdgespecError('missing-tool', `missing ${tool}, needed to build for ${target.name}`, `install with: apt-get install -y ${target.name === 'host' ? 'gcc binutils' : 'gcc-aarch64-linux-gnu binutils-aarch64-linux-gnu'}`, { tool });
    }
  }
}
