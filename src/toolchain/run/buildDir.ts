import { promises as fs } from 'fs';
import * as path from 'path';
import type { TargetName } from '../../common/targets';
import { BuildManifest, BuildTensor, LinuxVmManifest } from '../../common/types';
import { EdgespecError } from '../errors';
import type { EfiGuest } from '../guest/guestArgs';
import { kindOf, readRegularFile } from '../readRegularFile';
import { checkedManifestFields } from './manifestFields';

export type TensorSpec = BuildTensor;

/** What the run stage needs from a build directory (build.json, written by `edgespec build`). */
export interface RunnableBuild {
  dir: string;
  model: string;
  target: TargetName;
  dtype: 'float32' | 'int8';
  /** The bundle the image was built from: its reference input and output. */
  bundleDir: string;
  /** Absolute path of the ELF image (qemu-virt) or executable (host), a file directly inside `dir`. */
  image: string;
  imageBytes: number;
  /** What build.json says the image's sha256 is; checked before every run (stageImage). */
  imageSha256: string;
  inputs: TensorSpec[];
  outputs: TensorSpec[];
  qemu?: { machine: string; cpu: string; memory: string; inputAddress: string };
  /** host: the executable's arguments, in order. */
  hostArgv?: NonNullable<BuildManifest['host']>['argv'];
  /** efi: the disk image layout, the QEMU machine and the firmware (checked against the platform's). */
  efi?: EfiGuest;
  /** linux: the user-mode emulator and CPU that run the executable here. */
  userMode?: { emulator: string; cpu: string };
  /** rpi3: the QEMU machine that models the board, and the UART's baud rate. */
  board?: { machine: string; baud: number };
  /** linux-vm: the kernel and initramfs to boot (checked against this edgespec's values). */
  linuxVm?: LinuxVmManifest;
  /** A profiling build: what the guest's per-step counts are. */
  profile?: BuildManifest['profile'];
  /** A debug build: the tensors the image dumps to debug-tensors.bin. */
  debugTensors?: BuildManifest['debug_tensors'];
}

const REBUILD = 'build it again: edgespec build BUNDLE --target qemu-virt|host|linux --out DIR';

/** build.json is a few kB (a profiling build's step list a few hundred); this leaves ample room. */
const BUILD_JSON_MAX_BYTES = 16 * 1024 * 1024;

export async function readBuildDir(dir: string): Promise<RunnableBuild> {
  const manifestFile = path.join(dir, 'build.json');
  let text: string;
  try {
    text = (await readRegularFile(manifestFile, { what: 'build manifest', maxBytes: BUILD_JSON_MAX_BYTES, why: 'edgespec build writes a few kB', hint: REBUILD })).toString('utf8');
  } catch (e) {
    if (e instanceof EdgespecError) throw e;
    const exists = await fs.stat(dir).then(s => s.isDirectory(), () => false);
    throw new EdgespecError(
      'build-not-found',
      exists ? `${dir} is not a build directory: it has no build.json` : `build directory ${dir} does not exist`,
      'pass the directory written by edgespec build (e.g. BUNDLE/build/qemu-virt), or build one first: edgespec build BUNDLE --target qemu-virt'
    );
  }
  let manifest: unknown;
  try {
    manifest = JSON.parse(text);
  } catch (e) {
    throw new EdgespecError('build-manifest-invalid', `${manifestFile} is not valid JSON: ${(e as Error).message}`, REBUILD);
  }
  const build = fromManifest(path.resolve(dir), manifest, manifestFile);
  let stat;
  try {
    stat = await fs.lstat(build.image);
  } catch {
    throw new EdgespecError('build-image-missing', `${build.image} is missing (build.json refers to it)`, REBUILD);
  }
  if (!stat.isFile()) {
    throw new EdgespecError('build-image-invalid', `${build.image} is ${kindOf(stat)}, not the regular file edgespec build writes`, REBUILD);
  }
  build.imageBytes = stat.size;
  return build;
}

/** Whether `dir` holds a build.json that edgespec wrote (format edgespec.build), whatever else is wrong with it. */
export async function isEdgespecBuildDir(dir: string): Promise<boolean> {
  try {
    const text = await readRegularFile(path.join(dir, 'build.json'), { what: 'build manifest', maxBytes: BUILD_JSON_MAX_BYTES, hint: REBUILD });
    return (JSON.parse(text.toString('utf8')) as { format?: unknown })?.format === 'edgespec.build';
  } catch {
    return false;
  }
}

/** Maps build.json onto RunnableBuild, naming the first field that is missing or wrong. */
function fromManifest(dir: string, manifest: unknown, file: string): RunnableBuild {
  const m = checkedManifestFields(manifest, file, REBUILD);
  return {
    dir,
    model: m.model,
    target: m.target,
    dtype: m.dtype,
    bundleDir: path.resolve(dir, m.bundle),
    image: path.join(dir, m.image),
    imageBytes: 0,
    imageSha256: m.imageSha256,
    inputs: m.inputs,
    outputs: m.outputs,
    ...(m.qemu ? { qemu: m.qemu } : {}),
    ...(m.hostArgv ? { hostArgv: m.hostArgv } : {}),
    ...(m.efi ? { efi: m.efi } : {}),
    ...(m.userMode ? { userMode: m.userMode } : {}),
    ...(m.board ? { board: m.board } : {}),
    ...(m.linuxVm ? { linuxVm: m.linuxVm } : {}),
    ...(m.profile ? { profile: m.profile } : {}),
    ...(m.debugTensors ? { debugTensors: m.debugTensors } : {})
  };
}
