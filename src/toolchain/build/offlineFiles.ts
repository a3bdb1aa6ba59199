/**
 * The files of a build that stand on their own: boot.sh, which starts the image as
 * `edgespec run` does, and footprint.html, the footprint drawn by the lab's own report code
 * (src/common/report), one file that opens from disk. The Jupyter server's archive packs
 * them as they are.
 */
import { promises as fs } from 'fs';
import * as path from 'path';
import { footprintReportDocument } from '../../common/report/footprintHtml';
import type { BuildManifest, Footprint } from '../../common/types';
import { BOOT_SCRIPT, bootScript } from '../guest/bootScript';
import { encodedIoFileBytes } from '../guest/ioFile';
import type { TargetSpec } from './targets';

export const FOOTPRINT_REPORT = 'footprint.html';

export async function writeOfflineFiles(dir: string, target: TargetSpec, manifest: BuildManifest, footprint: Footprint): Promise<void> {
  const script = bootScript({
    spec: {
      target: target.name,
      ...(target.qemu ? { qemu: { machine: target.qemu.machine, cpu: target.qemu.cpu, memory: target.qemu.memory, inputAddress: target.qemu.input_address } } : {}),
      ...(manifest.host ? { hostArgv: manifest.host.argv } : {}),
      ...(target.userMode ? { userMode: { cpu: target.userMode.cpu } } : {}),
      ...(target.efi ? { efi: target.efi } : {})
    },
    image: manifest.image,
    inputFileBytes: encodedIoFileBytes(manifest.inputs.map(i => i.bytes))
  });
  await fs.writeFile(path.join(dir, BOOT_SCRIPT), script, { mode: 0o755 });
  await fs.writeFile(path.join(dir, FOOTPRINT_REPORT), footprintReportDocument(footprint));
}
