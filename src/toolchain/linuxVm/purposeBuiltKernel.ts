/**
 * The purpose-built kernel of the linux-vm target: linux-source-6.1 configured with
 * `make ARCH=arm64 allnoconfig` plus kernels/platform/linux-vm/kernel.config (forced through
 * KCONFIG_ALLCONFIG), cross-compiled with aarch64-linux-gnu-. A build takes many minutes, so
 * the Image is cached by what decides its bytes: the configuration fragment, the source
 * tarball and the compiler (the key); a second model's build reuses it at once.
 */
import { createHash } from 'crypto';
import execa from 'execa';
import { existsSync, promises as fs, readFileSync, statSync } from 'fs';
import { cpus } from 'os';
import * as path from 'path';
import { EdgespecError } from '../errors';
import { removeOnInterrupt, stopOnInterrupt } from '../interrupt';
import { isAlive } from '../processAlive';
import { repoFiles } from '../paths';
import { findOnPath } from '../tools/locate';
import { LINUX_SOURCE_INSTALL, linuxVmCacheDir } from './kernelCache';

export const LINUX_SOURCE_TARBALL = '/usr/src/linux-source-6.1.tar.xz';
const CROSS_COMPILE = 'aarch64-linux-gnu-';
const TOOLS_NEEDED = ['make', 'flex', 'bison', 'bc', 'tar', `${CROSS_COMPILE}gcc`];
/** Files one build compiles (measured: 612 with 6.1.192 and kernel.config); the progress total until a build has counted them. */
const EXPECTED_UNITS = 612;

export interface PurposeBuiltKernel {
  image: string;
  config: string;
  key: string;
  /** The kernel's release, e.g. 6.1.192. */
  version: string;
  /** Seconds the cold build took on the machine that made it. */
  buildSeconds: number;
  /** True when this call built it (no cached Image). */
  built: boolean;
}

type Progress = (done: number, total: number, message: string) => void;

export function kernelConfigFragment(): string {
  return path.join(repoFiles.kernelsDir, 'platform', 'linux-vm', 'kernel.config');
}

function tarball(): string {
  return process.env.EDGESPEC_LINUX_SOURCE || LINUX_SOURCE_TARBALL;
}

/** What is missing to build the kernel here, as an error with the install command; undefined when nothing is. */
export function purposeBuiltKernelProblem(): EdgespecError | undefined {
  if (!existsSync(tarball())) {
    return new EdgespecError('linux-source-missing', `the purpose-built kernel of linux-vm is built from ${tarball()}, which does not exist`, `install with: ${LINUX_SOURCE_INSTALL}; or build with --kernel debian`);
  }
  const missing = TOOLS_NEEDED.filter(t => !findOnPath(t));
  if (missing.length) {
    return new EdgespecError('missing-tool', `building the purpose-built kernel needs ${missing.join(', ')}, not found on PATH`, `install with: ${LINUX_SOURCE_INSTALL} gcc-aarch64-linux-gnu`, { tool: missing[0] });
  }
  return undefined;
}

async function compilerIdentity(): Promise<string> {
  const run = await execa(`${CROSS_COMPILE}gcc`, ['--version'], { reject: false });
  return run.stdout.split('\n')[0] ?? '';
}

/** The cache key: sha256 of the configuration fragment, the tarball's name and size, and the compiler's version line. */
export async function purposeBuiltKernelKey(): Promise<string> {
  const source = tarball();
  const h = createHash('sha256');
  h.update(readFileSync(kernelConfigFragment()));
  h.update(`\0${path.basename(source)}\0${statSync(source).size}\0${await compilerIdentity()}`);
  return h.digest('hex').slice(0, 16);
}

function keyDir(key: string): string {
  return path.join(linuxVmCacheDir(), 'purpose-built', key);
}

async function readCached(key: string): Promise<PurposeBuiltKernel | undefined> {
  const dir = keyDir(key);
  try {
    const info = JSON.parse(await fs.readFile(path.join(dir, 'kernel.json'), 'utf8')) as { version: string; build_seconds: number };
    const image = path.join(dir, 'Image');
    if (!(await fs.stat(image)).isFile()) return undefined;
    return { image, config: path.join(dir, 'config'), key, version: info.version, buildSeconds: info.build_seconds, built: false };
  } catch {
    return undefined;
  }
}

/** Work and staging directories (NAME.build-PID, NAME.partial-PID) of builds whose process is gone. */
async function sweepDead(parent: string): Promise<void> {
  const names = await fs.readdir(parent).catch(() => [] as string[]);
  await Promise.all(names.map(async name => {
    const pid = /\.(?:build|partial)-(\d+)$/.exec(name)?.[1];
    if (pid && !isAlive(Number(pid))) await fs.rm(path.join(parent, name), { recursive: true, force: true });
  }));
}

/** The tarball unpacked once into the cache (through a temporary directory and a rename). */
async function unpackedSource(progress: Progress): Promise<string> {
  const source = tarball();
  const name = `${path.basename(source).replace(/\.tar\.\w+$/, '')}-${statSync(source).size}`;
  const dir = path.join(linuxVmCacheDir(), 'source', name);
  const tree = path.join(dir, 'linux-source-6.1');
  if (existsSync(path.join(dir, '.edgespec-complete'))) return tree;
  progress(0, 1, `unpacking ${source}`);
  const staging = `${dir}.partial-${process.pid}`;
  await sweepDead(path.dirname(dir));
  await fs.rm(staging, { recursive: true, force: true });
  await fs.mkdir(staging, { recursive: true });
  const forget = removeOnInterrupt(staging);
  try {
    await run('tar', ['-xf', source, '-C', staging], staging, 'unpacking linux-source');
    await fs.writeFile(path.join(staging, '.edgespec-complete'), `${source}\n`);
    await fs.rm(dir, { recursive: true, force: true });
    await fs.rename(staging, dir);
  } finally {
    forget();
    await fs.rm(staging, { recursive: true, force: true });
  }
  return tree;
}

async function run(file: string, args: string[], cwd: string, what: string, onLine?: (line: string) => void): Promise<void> {
  const child = execa(file, args, { cwd, reject: false, all: true, env: { LC_ALL: 'C' }, extendEnv: true, detached: true, stdin: 'ignore', buffer: true, maxBuffer: 256 * 1024 * 1024 });
  stopOnInterrupt(child);
  if (onLine) {
    let pending = '';
    child.all?.on('data', (chunk: Buffer) => {
      const lines = (pending + chunk.toString('utf8')).split('\n');
      pending = lines.pop() ?? '';
      lines.forEach(onLine);
    });
  }
  const result = await child;
  if (result.exitCode !== 0) {
    const tail = (result.all ?? '').trim().split('\n').slice(-12).join('\n');
    throw new EdgespecError('kernel-build-failed', `${what} failed (${file} exited with ${result.exitCode ?? result.signal}):\n${tail}`, `the full output is above; check the tools: ${LINUX_SOURCE_INSTALL}`);
  }
}

/**
 * The purpose-built kernel's Image: from the cache, or built now (minutes; `progress` is
 * told of each file compiled). Concurrent builds of one key each build in their own directory
 * and the first to finish publishes.
 */
export async function purposeBuiltKernel(progress: Progress): Promise<PurposeBuiltKernel> {
  const problem = purposeBuiltKernelProblem();
  if (problem) throw problem;
  const key = await purposeBuiltKernelKey();
  const cached = await readCached(key);
  if (cached) return cached;

  const started = process.hrtime.bigint();
  const tree = await unpackedSource(progress);
  const work = `${keyDir(key)}.build-${process.pid}`;
  const staging = `${keyDir(key)}.partial-${process.pid}`;
  await sweepDead(path.dirname(work));
  await fs.rm(work, { recursive: true, force: true });
  await fs.mkdir(work, { recursive: true });
  // an interrupted build leaves neither its object tree (about 100 MB) nor a half-published Image
  const forgetWork = removeOnInterrupt(work);
  const forgetStaging = removeOnInterrupt(staging);
  try {
    const make = ['ARCH=arm64', `CROSS_COMPILE=${CROSS_COMPILE}`, `O=${work}`];
    await run('make', ['-s', ...make, `KCONFIG_ALLCONFIG=${kernelConfigFragment()}`, 'allnoconfig'], tree, 'configuring the kernel (make allnoconfig)');
    let units = 0;
    progress(0, EXPECTED_UNITS, 'compiling the purpose-built kernel (a few minutes, once per configuration)');
    await run('make', [...make, `-j${Math.max(1, cpus().length)}`, 'Image'], tree, 'compiling the kernel (make Image)', line => {
      const unit = /^\s+(CC|AS|LD|AR)\s+(\S+)/.exec(line);
      if (unit?.[1] === 'CC' || unit?.[1] === 'AS') progress(++units, Math.max(units, EXPECTED_UNITS), unit[2]);
    });
    const release = (await fs.readFile(path.join(work, 'include', 'config', 'kernel.release'), 'utf8')).trim();
    const buildSeconds = Math.round(Number(process.hrtime.bigint() - started) / 1e9);
    await fs.rm(staging, { recursive: true, force: true });
    await fs.mkdir(staging, { recursive: true });
    await fs.copyFile(path.join(work, 'arch', 'arm64', 'boot', 'Image'), path.join(staging, 'Image'));
    await fs.copyFile(path.join(work, '.config'), path.join(staging, 'config'));
    const config = await fs.readFile(path.join(staging, 'config'));
    await fs.writeFile(path.join(staging, 'kernel.json'), `${JSON.stringify({
      version: release,
      build_seconds: buildSeconds,
      units_compiled: units,
      source: tarball(),
      config_sha256: createHash('sha256').update(config).digest('hex'),
      fragment: path.relative(repoFiles.kernelsDir, kernelConfigFragment())
    }, null, 1)}\n`);
    await fs.rename(staging, keyDir(key)).catch(async e => {
      await fs.rm(staging, { recursive: true, force: true });
      if (!(await readCached(key))) throw e; // another build published first: use its Image
    });
    progress(units, units, `kernel ${release} built in ${buildSeconds} s`);
    const result = await readCached(key);
    if (!result) throw new Error(`internal: the kernel built in ${work} was not published to ${keyDir(key)}`);
    return { ...result, built: true };
  } finally {
    forgetWork();
    forgetStaging();
    await fs.rm(work, { recursive: true, force: true });
    await fs.rm(staging, { recursive: true, force: true });
  }
}
