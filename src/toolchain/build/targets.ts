import { existsSync, readFileSync } from 'fs';
import * as path from 'path';
import { EdgespecError } from '../errors';
import { loadKernelRegistry } from '../ops/kernelRegistry';
import { repoFiles } from '../paths';
import { chooseFp32Blocks, CpuCaches, describeFp32Blocks, fp32BlockFlags, Fp32Blocks } from './fp32Blocking';
import { readHostCpu } from './hostCpu';

import { TargetName, TARGETS } from '../../common/targets';
// The target list is shared with the lab, the Jupyter server and the bench.
export { TARGETS } from '../../common/targets';
export type { TargetName } from '../../common/targets';

/**
 * Which code paths the kernels compile to (`edgespec build --kernel-variant`): 'neon', the
 * default, takes the hand-written Advanced SIMD paths where a kernel has them (AArch64
 * targets); 'portable' defines ES_NO_NEON, leaving the portable C paths (GNU C vector
 * extensions and plain loops) that the compiler still vectorizes at the target's -O3.
 * On host, which has no NEON, both compile the same paths.
 */
export const KERNEL_VARIANTS = ['neon', 'portable'] as const;
export type KernelVariant = (typeof KERNEL_VARIANTS)[number];

/** The compile flags a kernel variant adds to the platform's. */
export function kernelVariantFlags(variant: KernelVariant): string[] {
  return variant === 'portable' ? ['-DES_NO_NEON'] : [];
}

/** One memory region of a bare-metal target. */
export interface MemoryRegion {
  name: 'image' | 'ram' | 'input';
  base: number;
  size: number;
}

/** Values of the ${NAME} placeholders in a platform's flags. */
export interface FlagValues {
  /** The build directory (absolute). */
  BUILD: string;
  /** The ELF the link writes, relative to the build directory. */
  IMAGE: string;
  /** The linker map, relative to the build directory. */
  MAP: string;
}

/** How to build for a target: kernels/platform/<target>/build.json, resolved. */
export interface TargetSpec {
  name: TargetName;
  /** The doctor's tool id for the compiler, to fail early with its install command. */
  compilerTool?: 'aarch64-gcc';
  cc: string;
  strip: string;
  /** Flags with ${...} placeholders; expand with expandFlags. Ends with the fp32 block sizes' defines. */
  cflags: string[];
  /** The CPU the image is for (build.json's cpu; host: the build machine's) and the fp32 block sizes chosen from it. */
  cpu: { caches: CpuCaches; fp32Blocks: Fp32Blocks; note: string };
  ldflags: string[];
  libs: string[];
  /** Platform sources, absolute. */
  sources: string[];
  /** Per-source defines the build computes (name → the sources it is for, absolute). */
  defines: { name: string; for: string[] }[];
  /** Kernel function → its source (absolute) and the kernel functions it calls (kernels/kernels.json, the same for every target). */
  kernels: Map<string, { source: string; calls: string[] }>;
  /** Generate the fault symbol table (.edgespec.symbols) with a second link. */
  symbolTable: boolean;
  /** Regions the image, its RAM and its input must fit (bare metal only). */
  memory: MemoryRegion[];
  qemu?: { machine: string; cpu: string; memory: string; input_address: string };
  /** linux: the user-mode emulator that runs the executable off an ARM64 board, and its CPU. */
  userMode?: { emulator: string; cpu: string };
  /** What the RAM total leaves out on this target, for footprint.json. */
  ramNote: string;
  /** A board image (rpi3): the raw file the firmware loads, the config.txt it needs, and how it serves. */
  board?: BoardSpec;
  /** A UEFI application (efi): the .EFI objcopy makes of the ELF, the FAT disk image, the QEMU firmware. */
  efi?: EfiSpec;
}

/** build.json's image, disk_image and qemu of the efi target (kernels/platform/efi). */
export interface EfiSpec {
  /** The PE/COFF application (BOOTAA64.EFI) and the objcopy arguments that make it from the linked ELF. */
  app: string;
  objcopy: string[];
  /** The bootable FAT disk image the build also writes (efi-boot.img). */
  diskImage: string;
  machine: string;
  cpu: string;
  memory: string;
  /** EDK2 for QEMU: the code (read-only pflash) and the variables' template (a copy is writable pflash). */
  firmwareCode: string;
  firmwareVars: string;
}

/** build.json's raw_image, config_txt, serve and qemu of a board target (kernels/platform/rpi3). */
export interface BoardSpec {
  /** objcopy -O binary of the stripped ELF: the file the firmware loads (kernel8.img). */
  rawImage: string;
  configTxt: { file: string; lines: string[] };
  /** The UART's baud rate the image sets. */
  baud: number;
  /** The QEMU machine that models the board (raspi3b). */
  qemuMachine: string;
}

/** The fields of kernels/platform/<target>/build.json that the build reads. */
interface PlatformBuildFile {
  cc: string;
  strip?: string;
  cflags: string[];
  ldflags: string[];
  libs?: string[];
  sources: string[];
  defines?: Record<string, { for?: string | string[] } | string>;
  symbols?: unknown;
  memory?: { defsym?: Record<string, string> };
  input?: { address?: string; max_bytes?: number };
  qemu?: { args?: string[] };
  run?: { binary?: string; args?: string[] };
  raw_image?: { file?: string };
  config_txt?: { file?: string; lines?: string[] };
  serve?: { baud?: number };
  image?: { file?: string; objcopy?: string[] };
  disk_image?: { file?: string };
  cpu?: { detect?: boolean; vector?: string; l1d_bytes?: number; l2_bytes?: number; stack_bytes?: number };
}

function platformFile(target: TargetName): string {
  return path.join(repoFiles.kernelsDir, 'platform', target, 'build.json');
}

function invalid(file: string, problem: string): EdgespecError {
  return new EdgespecError('platform-invalid', `${file}: ${problem}`, 'the edgespec installation is damaged; reinstall it');
}

/** The strip of the compiler's toolchain: aarch64-linux-gnu-gcc → aarch64-linux-gnu-strip. */
function stripFor(cc: string): string {
  const m = /^(.*-)?(gcc|cc|clang)(-\d+)?$/.exec(path.basename(cc));
  return `${m?.[1] ?? ''}strip`;
}

function argAfter(args: string[], flag: string): string | undefined {
  const i = args.indexOf(flag);
  return i >= 0 ? args[i + 1] : undefined;
}

function boardOf(spec: PlatformBuildFile, file: string): BoardSpec | undefined {
  if (!spec.raw_image) return undefined;
  const { raw_image: raw, config_txt: config, serve } = spec;
  const plainName = (n: unknown) => typeof n === 'string' && /^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(n);
  if (!plainName(raw.file) || !plainName(config?.file) || !Array.isArray(config?.lines) || typeof serve?.baud !== 'number') {
    throw invalid(file, 'raw_image.file, config_txt.file and .lines, and serve.baud are needed together');
  }
  return { rawImage: raw.file!, configTxt: { file: config!.file!, lines: config!.lines! }, baud: serve!.baud!, qemuMachine: argAfter(spec.qemu?.args ?? [], '-M') ?? 'raspi3b' };
}

function efiOf(spec: PlatformBuildFile & { qemu?: { firmware_code?: string; firmware_vars?: string } }, file: string): EfiSpec | undefined {
  if (!spec.image) return undefined;
  const plainName = (n: unknown) => typeof n === 'string' && /^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(n);
  const args = spec.qemu?.args ?? [];
  const { firmware_code: code, firmware_vars: vars } = spec.qemu ?? {};
  if (!plainName(spec.image.file) || !Array.isArray(spec.image.objcopy) || !plainName(spec.disk_image?.file) || typeof code !== 'string' || typeof vars !== 'string') {
    throw invalid(file, 'image.file and .objcopy, disk_image.file, and qemu.firmware_code and .firmware_vars are needed together');
  }
  return {
    app: spec.image.file!, objcopy: spec.image.objcopy, diskImage: spec.disk_image!.file!,
    machine: argAfter(args, '-M') ?? 'virt', cpu: argAfter(args, '-cpu') ?? 'cortex-a72', memory: argAfter(args, '-m') ?? '1G',
    firmwareCode: code, firmwareVars: vars
  };
}

const VECTORS: readonly CpuCaches['vector'][] = ['neon', 'avx512', 'avx2', 'sse'];

/** build.json's cpu: its facts, or for host (detect) what the build machine's CPU reports. */
function cpuOf(spec: PlatformBuildFile, file: string): TargetSpec['cpu'] {
  const cpu = spec.cpu;
  const positive = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n) && n > 0;
  if (!cpu || !positive(cpu.stack_bytes)) throw invalid(file, 'cpu.stack_bytes (a positive integer) is missing');
  let caches: CpuCaches;
  let source: string;
  if (cpu.detect === true) {
    const host = readHostCpu(cpu.stack_bytes);
    caches = host.caches;
    source = host.source;
  } else {
    if (!VECTORS.includes(cpu.vector as CpuCaches['vector']) || !positive(cpu.l1d_bytes) || !positive(cpu.l2_bytes)) {
      throw invalid(file, `cpu needs detect: true, or vector (${VECTORS.join(', ')}), l1d_bytes and l2_bytes`);
    }
    caches = { vector: cpu.vector as CpuCaches['vector'], l1dBytes: cpu.l1d_bytes, l2Bytes: cpu.l2_bytes, stackBytes: cpu.stack_bytes };
    source = `the target's cpu in kernels/platform/${path.basename(path.dirname(file))}/build.json`;
  }
  const fp32Blocks = chooseFp32Blocks(caches);
  return { caches, fp32Blocks, note: describeFp32Blocks(caches, fp32Blocks, source) };
}

function regionsOf(spec: PlatformBuildFile): MemoryRegion[] {
  const defsym = spec.memory?.defsym;
  if (!defsym) return [];
  const regions: MemoryRegion[] = [];
  for (const name of ['image', 'ram', 'input'] as const) {
    const base = defsym[`__es_${name}_base`];
    const size = defsym[`__es_${name}_size`];
    if (base !== undefined && size !== undefined) regions.push({ name, base: Number(base), size: Number(size) });
  }
  return regions;
}

/** Expands ${KERNELS}, ${BUILD}, ${IMAGE} and ${MAP}; any other placeholder is an error. */
export function expandFlags(flags: string[], values: FlagValues): string[] {
  const all: Record<string, string> = { KERNELS: repoFiles.kernelsDir, ...values };
  return flags.map(f =>
    f.replace(/\$\{(\w+)\}/g, (_, name: string) => {
      const v = all[name];
      if (v === undefined) throw new Error(`internal: the platform flag ${f} uses \${${name}}, which the build does not provide`);
      return v;
    })
  );
}

export function loadTarget(target: string): TargetSpec {
  if (!(TARGETS as readonly string[]).includes(target)) {
    throw new EdgespecError('unknown-target', `unknown target ${target}`, `use one of: ${TARGETS.join(', ')}`);
  }
  const name = target as TargetName;
  const file = platformFile(name);
  if (!existsSync(file)) {
    throw new EdgespecError('platform-missing', `the ${name} platform has no build.json (${file})`, 'the edgespec installation is incomplete; reinstall it');
  }
  let spec: PlatformBuildFile;
  try {
    spec = JSON.parse(readFileSync(file, 'utf8')) as PlatformBuildFile;
  } catch (e) {
    throw invalid(file, `not valid JSON: ${(e as Error).message}`);
  }
  for (const key of ['cc', 'cflags', 'ldflags', 'sources'] as const) {
    if (spec[key] === undefined) throw invalid(file, `${key} is missing`);
  }
  const fromKernels = (rel: string) => path.resolve(repoFiles.kernelsDir, rel);
  const defines = Object.entries(spec.defines ?? {}).map(([define, d]) => {
    const forList = typeof d === 'object' && d.for !== undefined ? (Array.isArray(d.for) ? d.for : [d.for]) : spec.sources;
    return { name: define, for: forList.map(fromKernels) };
  });
  const qemuArgs = spec.qemu?.args;
  const inputAddress = spec.input?.address;
  const board = boardOf(spec, file);
  const efi = efiOf(spec, file);
  const cpu = cpuOf(spec, file);
  return {
    name,
    ...(name !== 'host' ? { compilerTool: 'aarch64-gcc' as const } : {}),
    cc: spec.cc,
    strip: spec.strip ?? stripFor(spec.cc),
    cflags: [...spec.cflags, ...fp32BlockFlags(cpu.fp32Blocks)],
    cpu,
    ldflags: spec.ldflags,
    libs: spec.libs ?? [],
    sources: spec.sources.map(fromKernels),
    defines,
    kernels: loadKernelRegistry(),
    symbolTable: spec.symbols !== undefined,
    memory: regionsOf(spec),
    ...(qemuArgs && inputAddress
      ? { qemu: { machine: argAfter(qemuArgs, '-M') ?? 'virt', cpu: argAfter(qemuArgs, '-cpu') ?? 'max', memory: argAfter(qemuArgs, '-m') ?? '1G', input_address: inputAddress } }
      : {}),
    ...(name === 'linux' ? { userMode: { emulator: spec.run?.binary ?? 'qemu-aarch64', cpu: argAfter(spec.run?.args ?? [], '-cpu') ?? 'cortex-a72' } } : {}),
    ramNote: efi
      ? 'the input file is in pages the firmware allocates and is not counted, nor the firmware\'s stack; the output storage is the platform\'s, in bss'
      : board
      ? 'the input and output buffers are the platform\'s, in bss'
      : name !== 'qemu-virt'
        ? 'the stack and the input and output buffers belong to the operating system (malloc) and are not counted'
        : 'the input file sits in its own region where QEMU\'s loader puts it and is not counted; the output storage is the platform\'s, in bss',
    ...(board ? { board } : {}),
    ...(efi ? { efi } : {})
  };
}
