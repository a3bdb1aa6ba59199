import { createHash } from 'crypto';
import { promises as fs } from 'fs';
import * as path from 'path';
import { defaultBuildDir } from '../../common/targets';
import { BuildManifest, Footprint, Graph } from '../../common/types';
import { loadBundle } from '../bundle/loadBundle';
import { EdgespecError, fromSystemError } from '../errors';
import { Reporter } from '../events';
import { BuildLog, compileAll } from './compile';
import { parseElf } from './elf';
import { emitModelSource, kernelsUsed } from './emitModelSource';
import { measureFootprint } from './footprint';
import { measureReferenceStack } from '../reference/measureReferenceStack';
import { compileFlags, linkWithSymbolTable, strip } from './link';
import { parseLinkerMap } from './linkerMap';
import { LoweredModel, lowerModel } from './lowerModel';
import { bindState, BoundState } from './state';
import { writeManifest } from './manifest';
import { checkMemoryBeforeLink, MemoryNeeds, memoryNeeds } from './memoryCheck';
import { withSizedMap } from './memoryMap';
import { ObjectCache } from './objectCache';
import { outputStorage, planObjects } from './objectPlan';
import { writeOfflineFiles } from './offlineFiles';
import { assertReplaceable, publish } from './publish';
import { FlagValues, KernelVariant, kernelVariantFlags, loadTarget, TargetSpec } from './targets';
import { requireCompiler } from './toolCheck';
import { LoweredInt8, lowerInt8 } from './quantize/lowerInt8';
import { hasGivenQuantization } from './quantize/givenQuantization';
import { profileManifest, withProfileSource } from './profileBuild';
import { debugTensorsManifest, withDebugTensorsSource } from './debugTensorsBuild';
import { plantFault } from './plantFault';
import { efiManifest, writeEfiImages } from './efiImage';
import { writeBoardImages } from './boardImage';
import { removeOnInterrupt } from '../interrupt';
import { keepFailedBuildLog, removeFailedBuildLog } from './failedBuildLog';
import { stagingDirFor, sweepDeadBuilds } from './staging';
import { packageLinuxVm } from '../linuxVm/packageVm';
import { DEFAULT_KERNEL, KernelKind, VmKernel, vmKernel } from '../linuxVm/vmKernel';

export const IMAGE_FILE = 'image.elf';
export const LINKED_FILE = 'image.linked.elf';
export const MAP_FILE = 'image.map';
export const PRODUCER = 'edgespec build 0.1.0';

export interface BuildOptions {
  bundleDir: string;
  target: string;
  /** Default: <bundle>/build/<target>, <target>-int8 for int8 (src/common/targets.ts). */
  outDir?: string;
  reporter?: Reporter;
  /** Object cache directory; null turns it off. Default: ObjectCache.defaultDir(). */
  cacheDir?: string | null;
  /** A profiling build: the model records a count after each step (edgespec/profile.h). */
  profile?: boolean;
  /** A debug build: the model dumps every tensor each step writes (edgespec/debug_tensors.h). Default out: <target>[-int8]-debug. */
  debugTensors?: boolean;
  /**
   * 'int8': post-training static quantization (src/toolchain/build/quantize), or the bundle's
   * own quantization when it carries one. Default: 'int8' for such a bundle, else 'float32'.
   */
  dtype?: 'float32' | 'int8';
  /** int8: calibration inputs, a .safetensors file or a directory of .npy files. */
  calibration?: string;
  /** 'portable': every source compiled with -DES_NO_NEON (no hand-written NEON paths). Default 'neon'. */
  kernelVariant?: KernelVariant;
  /** linux-vm: the kernel it boots, purpose-built from linux-source-6.1 (default) or Debian's generic arm64 kernel. */
  kernel?: KernelKind;
}

export interface BuildResult {
  dir: string;
  manifest: BuildManifest;
  footprint: Footprint;
}

const quiet: Pick<Reporter, 'progress' | 'log'> = { progress: () => undefined, log: () => undefined };

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Writes the build into `dir` (an empty temporary directory). */
interface BuildKind {
  /** The model's state carried between invocations (graph.state), bound to extra schedule I/O. */
  state: BoundState;
  profile: boolean;
  debugTensors: boolean;
  dtype: 'float32' | 'int8';
  kernelVariant: KernelVariant;
  /** linux-vm: the kernel packaged with the executable. */
  vmKernel?: VmKernel;
}

async function buildInto(dir: string, graph: Graph, lowered: LoweredModel, needs: MemoryNeeds, bundleDir: string, finalDir: string, target: TargetSpec, reporter: Pick<Reporter, 'progress' | 'log'>, cacheDir: string | undefined, kind: BuildKind): Promise<BuildResult> {
  const { schedule, plan, blob } = lowered;
  const { profile, debugTensors, dtype, kernelVariant, state } = kind;

  const source = lowered.source ?? emitModelSource(schedule, plan, blob, PRODUCER, { profile, debugTensors, state });
  await fs.writeFile(path.join(dir, 'model.c'), source.modelC);
  await fs.writeFile(path.join(dir, 'weights.S'), source.weightsS);
  await fs.writeFile(path.join(dir, 'weights.bin'), blob.data);
  await fs.mkdir(path.join(dir, 'obj'));
  reporter.progress('codegen', 1, 1, `${schedule.steps.length} steps, ${kernelsUsed(schedule).length} kernels`);

  const objects = planObjects(lowered, target, { ES_OUTPUT_BYTES: outputStorage(lowered) });
  const log = new BuildLog();
  let imageFile = IMAGE_FILE; // efi: the .EFI made from it
  log.note(`${PRODUCER}: model ${schedule.model}, target ${target.name}, kernel variant ${kernelVariant}`);
  log.note(target.cpu.note);
  for (const note of lowered.notes ?? []) log.note(note);
  const values: FlagValues = { BUILD: dir, IMAGE: LINKED_FILE, MAP: MAP_FILE };
  // the variant's define is part of every unit's flags, so the object cache keys differ too
  const flags = [...compileFlags(target, values), ...kernelVariantFlags(kernelVariant)];
  try {
    await compileAll(target.cc, flags, objects.units.map(u => ({ ...u, extraFlags: [...(u.extraFlags ?? []), `-frandom-seed=${u.object}`] })), dir, log,
      (done, total, unit) => reporter.progress('compile', done, total, unit.object), await ObjectCache.open(cacheDir, target.cc));
    reporter.progress('link', 0, 1);
    await linkWithSymbolTable(target, objects.units.map(u => u.object), dir, log, flags, values);
    if (target.symbolTable) objects.sources.set('obj/symbols.o', 'platform');
    await strip(target, LINKED_FILE, IMAGE_FILE, dir, log);
    if (target.efi) imageFile = await writeEfiImages(target, IMAGE_FILE, dir, log, graph);
    if (target.board) imageFile = await writeBoardImages(target, IMAGE_FILE, dir, log);
    reporter.progress('link', 1, 1);
  } finally {
    await fs.writeFile(path.join(dir, 'build.log'), log.text());
  }

  const image = await fs.readFile(path.join(dir, imageFile));
  const linked = await fs.readFile(path.join(dir, LINKED_FILE));
  const footprint = measureFootprint({
    model: schedule.model,
    target: target.name,
    dtype,
    imageFile,
    ...(target.board ? { rawOf: await fs.readFile(path.join(dir, IMAGE_FILE)) } : {}),
    image,
    linked,
    map: parseLinkerMap(await fs.readFile(path.join(dir, MAP_FILE), 'utf8')),
    blob,
    objectSources: objects.sources,
    kernelOps: objects.kernelOps,
    arena: { bytes: plan.arenaBytes, lowerBound: plan.lowerBound },
    ramNote: target.ramNote
  });
  reporter.progress('footprint', 0, 1, 'measuring the framework stack this image replaces');
  const vm = kind.vmKernel ? await packageLinuxVm(dir, IMAGE_FILE, kind.vmKernel, blob.tensorBytes) : undefined;
  // linux-vm: the generic stack's OS is measured too (Debian's arm64 kernel package)
  const referenceStack = [...(await measureReferenceStack()), ...(vm?.referenceOs ? [vm.referenceOs] : [])];
  if (referenceStack.length) footprint.reference_stack = referenceStack;
  if (vm) footprint.linux_vm = vm.footprint;
  await fs.writeFile(path.join(dir, 'footprint.json'), `${JSON.stringify(footprint, null, 1)}\n`);
  reporter.progress('footprint', 1, 1, `image ${image.length} bytes, weights ${blob.tensorBytes}`);

  const manifest = writeManifest({
    graph, target, lowered, image: { file: imageFile, bytes: image.length, sha256: sha256(image) }, needs, linked: parseElf(linked),
    bundle: path.relative(finalDir, path.resolve(bundleDir)) || '.', producer: PRODUCER, dtype, kernelVariant,
    files: { footprint: 'footprint.json', log: 'build.log', map: MAP_FILE, linked: LINKED_FILE, model_source: 'model.c' },
    ...(profile ? { profile: profileManifest(schedule, target) } : {}),
    ...(debugTensors ? { debugTensors: debugTensorsManifest(schedule, lowered.ir, graph, (lowered as LoweredInt8).quantized) } : {}),
    ...(target.efi ? { efi: efiManifest(target, IMAGE_FILE) } : {})
  });
  if (vm) manifest.linux_vm = vm.manifest;
  await fs.writeFile(path.join(dir, 'build.json'), `${JSON.stringify(manifest, null, 1)}\n`);
  await writeOfflineFiles(dir, target, manifest, footprint);
  return { dir: finalDir, manifest, footprint };
}

/** The image's arithmetic: as asked, else int8 for a bundle that carries its own quantization. */
function buildDtype(graph: Graph, asked: 'float32' | 'int8' | undefined): 'float32' | 'int8' {
  if (!hasGivenQuantization(graph)) return asked ?? 'float32';
  if (asked === 'float32') {
    throw new EdgespecError('int8-given-quantization', `${graph.name} is an int8 model with its own quantization (from ${graph.source.framework}); it builds as int8 only`, 'build it without --dtype (or with --dtype int8); capture a float model to build float32');
  }
  return 'int8';
}

/** The output directory, absolute; an --out that is a symbolic link to a directory means that directory. */
async function resolveOutDir(options: BuildOptions, target: TargetSpec, dtype: 'float32' | 'int8'): Promise<string> {
  const asked = path.resolve(options.outDir ?? defaultBuildDir(options.bundleDir, target.name, dtype, { debug: options.debugTensors }));
  const stat = await fs.lstat(asked).catch(() => undefined);
  if (!stat?.isSymbolicLink()) return asked;
  const real = await fs.realpath(asked).catch(() => undefined);
  if (!real || !(await fs.stat(real)).isDirectory()) {
    throw new EdgespecError('out-not-build', `${asked} is a symbolic link that does not lead to a directory; nothing was changed`, 'pass a directory (or a path that does not exist yet) as --out');
  }
  return real;
}

/** A path in the staging directory, said as the path it would have had in the output (the staging directory is gone). */
function asPublished(file: string | undefined, staging: string, finalDir: string): string | undefined {
  if (file === undefined) return undefined;
  return file === staging || file.startsWith(`${staging}${path.sep}`) ? finalDir + file.slice(staging.length) : file;
}

/**
 * A failed build's error as the user sees it: an error of the system names the output's
 * path (not the staging directory's), and the log kept beside the output is named.
 */
function explainFailure(e: unknown, staging: string, finalDir: string, log: string | undefined): unknown {
  let error: EdgespecError | undefined;
  if (e instanceof EdgespecError) {
    error = e;
  } else if (typeof e === 'object' && e !== null && typeof (e as NodeJS.ErrnoException).code === 'string') {
    const system = e as NodeJS.ErrnoException & { dest?: string };
    // a failed write names no path: it was one of the build's files
    const where = asPublished(system.path, staging, finalDir) ?? finalDir;
    error = fromSystemError(Object.assign(new Error(system.message), { code: system.code, syscall: system.syscall, path: where, dest: asPublished(system.dest, staging, finalDir) }));
  }
  if (!error) return e;
  const hint = error.hint?.replace(/; the full command lines and output are in build\.log of the failed build$/, '');
  if (!log) return hint === error.hint ? error : new EdgespecError(error.code, error.message, `${hint}; the build's log could not be kept beside ${finalDir}`, error.details);
  const details = typeof error.details === 'object' && error.details !== null ? { ...error.details, build_log: log } : { build_log: log };
  return new EdgespecError(error.code, error.message, `${hint ? `${hint}; ` : ''}the full command lines and output are in ${log}`, details);
}

/**
 * `edgespec build`: bundle → passes → plan → C → compile and link → footprint → build.json.
 * Everything is written into a staging directory beside the output and renamed into place
 * at the end; a failed build leaves nothing behind but its log (OUT.failed-build.log).
 */
export async function buildBundle(options: BuildOptions): Promise<BuildResult> {
  const reporter = options.reporter ?? quiet;
  const plain = loadTarget(options.target);
  const profiled = options.profile ? withProfileSource(plain) : plain;
  if (options.debugTensors && (plain.board || plain.efi)) {
    throw new EdgespecError('debug-tensors-unsupported', `a ${plain.name} image cannot dump its tensors: debug-tensors.bin is written through semihosting, which ${plain.efi ? 'a UEFI machine' : 'a board'} has not`, 'debug the same bundle on qemu-virt or host: edgespec diff DIR/build/qemu-virt');
  }
  const target = options.debugTensors ? withDebugTensorsSource(profiled) : profiled;
  const prepareOut = async (dtype: 'float32' | 'int8'): Promise<string> => {
    const dir = await resolveOutDir(options, target, dtype);
    // Leftovers of builds of this output that were killed: the previous build put back, staging removed.
    for (const note of await sweepDeadBuilds(dir)) reporter.log(note, 'warn');
    await assertReplaceable(dir);
    await requireCompiler(target);
    return dir;
  };
  // The output is made safe before anything else, unless it is the default one of a bundle
  // whose own quantization decides its dtype (BUNDLE/build/TARGET[-int8]): then after loading it.
  const early = options.outDir !== undefined || options.dtype !== undefined ? await prepareOut(options.dtype ?? 'float32') : undefined;
  reporter.progress('load', 0, 1, options.bundleDir);
  const bundle = await loadBundle(options.bundleDir);
  reporter.progress('load', 1, 1, bundle.graph.name);
  const dtype = buildDtype(bundle.graph, options.dtype);
  const finalDir = early ?? (await prepareOut(dtype));
  // Everything that can reject the model runs before anything is written.
  const state = bindState(bundle.graph, name => bundle.weights.tensors.get(name));
  if (state.bindings.length > 0 && dtype === 'int8' && !hasGivenQuantization(bundle.graph)) {
    // calibration would run the fp32 schedule without the state each step starts from
    throw new EdgespecError('unsupported-graph', `${bundle.graph.name} keeps state between invocations (${state.bindings.length} variable${state.bindings.length === 1 ? '' : 's'}); edgespec does not calibrate an int8 image of a float model with state`, 'build it as float32 (without --dtype), or convert it to an int8 .tflite with its own quantization and build that');
  }
  const lowered = dtype === 'int8'
    ? await lowerInt8({ ...bundle, graph: state.graph }, target.name, { ...options, state, producer: PRODUCER, log: m => reporter.log(m), progress: (s, d, t, m) => reporter.progress(s, d, t, m) })
    : lowerModel(state.graph, name => bundle.weights.tensors.get(name), target.name, (name, i, total) => reporter.progress('passes', i, total, name));
  // the kernel before anything is written: a purpose-built one may first need building (minutes, cached)
  const kernel = target.name === 'linux-vm' ? await vmKernel(options.kernel ?? DEFAULT_KERNEL, (done, total, message) => reporter.progress('kernel', done, total, message)) : undefined;
  const fault = plantFault(lowered);
  if (fault) {
    reporter.log(fault, 'warn');
    lowered.notes = [...(lowered.notes ?? []), fault];
  }
  reporter.progress('plan', 1, 1, `arena ${lowered.plan.arenaBytes} bytes, lower bound ${lowered.plan.lowerBound}`);
  // qemu-virt's regions and QEMU's -m grow to what the model needs (memoryMap.ts)
  const mapped = withSizedMap(target, memoryNeeds(target, lowered));
  if (mapped !== target) reporter.log(`the model does not fit ${target.name}'s default memory map: ${mapped.memory.map(r => `${r.name} ${r.size / 2 ** 20} MiB at 0x${r.base.toString(16)}`).join(', ')}; QEMU -m ${mapped.qemu?.memory}`);
  const needs = memoryNeeds(mapped, lowered);
  checkMemoryBeforeLink(mapped, needs);

  await assertReplaceable(finalDir); // again: the directory may have changed while the model was lowered
  const tmp = stagingDirFor(finalDir);
  const forgetTmp = removeOnInterrupt(tmp);
  try {
    await fs.mkdir(path.dirname(finalDir), { recursive: true });
    await fs.mkdir(tmp);
    const cacheDir = options.cacheDir === undefined ? ObjectCache.defaultDir() : options.cacheDir ?? undefined;
    const result = await buildInto(tmp, bundle.graph, lowered, needs, bundle.dir, finalDir, mapped, reporter, cacheDir, { state, profile: options.profile ?? false, debugTensors: options.debugTensors ?? false, dtype, kernelVariant: options.kernelVariant ?? 'neon', ...(kernel ? { vmKernel: kernel } : {}) });
    await publish(tmp, finalDir);
    await removeFailedBuildLog(finalDir).catch(() => undefined);
    return result;
  } catch (e) {
    const log = await keepFailedBuildLog(tmp, finalDir);
    await fs.rm(tmp, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 });
    throw explainFailure(e, tmp, finalDir, log);
  } finally {
    forgetTmp();
  }
}
