import { promises as fs } from 'fs';
import * as path from 'path';
import { BuildManifest, BuildTensor, DType } from '../../common/types';
import { EdgespecError } from '../errors';

export type TensorSpec = BuildTensor;

/** What the run stage needs from a build directory (build.json, written by `edgespec build`). */
export interface RunnableBuild {
  dir: string;
  model: string;
  target: 'qemu-virt' | 'host' | 'linux';
  dtype: 'float32' | 'int8';
  /** The bundle the image was built from: its reference input and output. */
  bundleDir: string;
  /** Absolute path of the ELF image (qemu-virt) or executable (host). */
  image: string;
  imageBytes: number;
  inputs: TensorSpec[];
  outputs: TensorSpec[];
  qemu?: { machine: string; cpu: string; memory: string; inputAddress: string };
  /** host: the executable's arguments, in order. */
  hostArgv?: NonNullable<BuildManifest['host']>['argv'];
  /** linux: the user-mode emulator and CPU that run the executable here. */
  userMode?: { emulator: string; cpu: string };
  /** A profiling build: what the guest's per-step counts are. */
  profile?: BuildManifest['profile'];
}

const REBUILD = 'build it again: edgespec build BUNDLE --target qemu-virt|host|linux --out DIR';

export async function readBuildDir(dir: string): Promise<RunnableBuild> {
  const manifestFile = path.join(dir, 'build.json');
  let text: string;
  try {
    text = await fs.readFile(manifestFile, 'utf8');
  } catch {
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
  try {
    build.imageBytes = (await fs.stat(build.image)).size;
  } catch {
    throw new EdgespecError('build-image-missing', `${build.image} is missing (build.json refers to it)`, REBUILD);
  }
  return build;
}

/** Maps build.json onto RunnableBuild, naming the first field that is missing or wrong. */
function fromManifest(dir: string, manifest: unknown, file: string): RunnableBuild {
  const bad = (field: string, want: string): never => {
    throw new EdgespecError('build-manifest-invalid', `${file}: ${field} is missing or not ${want}`, REBUILD);
  };
  const m = manifest as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  if (typeof m !== 'object' || m === null) return bad('the manifest', 'an object');
  if (m.target !== 'qemu-virt' && m.target !== 'host' && m.target !== 'linux') return bad('target', '"qemu-virt", "host" or "linux" (the targets edgespec run can start)');
  if (typeof m.model !== 'string') return bad('model', 'a string');
  if (typeof m.bundle !== 'string') return bad('bundle', 'a path');
  if (typeof m.image !== 'string') return bad('image', 'a path');
  const tensors = (field: 'inputs' | 'outputs'): TensorSpec[] => {
    const list = m[field];
    if (!Array.isArray(list) || list.length === 0) return bad(field, 'a non-empty list');
    return list.map((t: Record<string, unknown>, i: number) => {
      if (typeof t?.name !== 'string' || !Array.isArray(t.shape) || typeof t.dtype !== 'string' || typeof t.bytes !== 'number' || typeof t.reference !== 'string') {
        return bad(`${field}[${i}]`, 'an object with name, shape, dtype, bytes and reference');
      }
      return { ...(t as unknown as BuildTensor), dtype: t.dtype as DType };
    });
  };
  const build: RunnableBuild = {
    dir,
    model: m.model,
    target: m.target,
    dtype: m.dtype === 'int8' ? 'int8' : 'float32',
    bundleDir: path.resolve(dir, m.bundle),
    image: path.resolve(dir, m.image),
    imageBytes: 0,
    inputs: tensors('inputs'),
    outputs: tensors('outputs')
  };
  if (m.target === 'qemu-virt') {
    const q = m.qemu;
    if (typeof q !== 'object' || q === null) return bad('qemu', 'an object');
    if (typeof q.machine !== 'string' || typeof q.cpu !== 'string' || typeof q.memory !== 'string' || typeof q.input_address !== 'string') {
      return bad('qemu', 'an object with machine, cpu, memory and input_address');
    }
    build.qemu = { machine: q.machine, cpu: q.cpu, memory: q.memory, inputAddress: q.input_address };
  } else {
    const argv = m.host?.argv;
    if (!Array.isArray(argv) || !argv.every((a: unknown) => a === 'INPUT_FILE' || a === 'OUTPUT_FILE')) return bad('host.argv', 'a list of INPUT_FILE / OUTPUT_FILE');
    build.hostArgv = argv;
  }
  if (m.target === 'linux') {
    const l = m.linux;
    if (typeof l?.emulator !== 'string' || typeof l?.cpu !== 'string') return bad('linux', 'an object with emulator and cpu');
    build.userMode = { emulator: l.emulator, cpu: l.cpu };
  }
  if (m.profile !== undefined) {
    const p = m.profile;
    if ((p?.unit !== 'instructions' && p?.unit !== 'ns') || !Array.isArray(p.steps)) return bad('profile', 'an object with unit and steps');
    build.profile = p;
  }
  return build;
}
