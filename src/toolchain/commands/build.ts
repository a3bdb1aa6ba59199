import { InvalidArgumentError } from 'commander';
import { buildBundle, BuildResult } from '../build/buildBundle';
import { KERNEL_VARIANTS, KernelVariant } from '../build/targets';
import { DEFAULT_TARGET, Dtype, DTYPES, TARGETS } from '../../common/targets';
import type { RegisterCommand } from './context';
import { DEFAULT_KERNEL, KERNEL_KINDS, KernelKind } from '../linuxVm/vmKernel';
import { deployedBytes } from '../../common/report/referenceStack';
import { formatBytes, formatTable } from './text';

function parseTarget(value: string): string {
  if (!(TARGETS as readonly string[]).includes(value)) throw new InvalidArgumentError(`choose one of: ${TARGETS.join(', ')}`);
  return value;
}

function parseKernelVariant(value: string): KernelVariant {
  if (!(KERNEL_VARIANTS as readonly string[]).includes(value)) throw new InvalidArgumentError(`choose one of: ${KERNEL_VARIANTS.join(', ')}`);
  return value as KernelVariant;
}

function parseKernel(value: string): KernelKind {
  if (!(KERNEL_KINDS as readonly string[]).includes(value)) throw new InvalidArgumentError(`choose one of: ${KERNEL_KINDS.join(', ')}`);
  return value as KernelKind;
}

function parseDtype(value: string): Dtype {
  if (!(DTYPES as readonly string[]).includes(value)) throw new InvalidArgumentError(`choose one of: ${DTYPES.join(', ')}`);
  return value as Dtype;
}

/** `edgespec build BUNDLE`: passes, memory plan, C, compile and link, footprint.json and build.json. */
export const registerBuild: RegisterCommand = (program, ctx) => {
  program
    .command('build')
    .description('build a captured bundle into an image: a bare-metal ARM64 unikernel (qemu-virt) or a host executable, with footprint.json')
    .argument('<bundle>', 'bundle directory written by edgespec capture')
    .option('--target <target>', `${TARGETS.join(' or ')}`, parseTarget, DEFAULT_TARGET)
    .option('--out <dir>', 'build directory (default: BUNDLE/build/TARGET, or BUNDLE/build/TARGET-int8 for an int8 build)')
    .option('--profile', 'profiling build: count guest instructions (qemu-virt) or nanoseconds (host, linux) per step; edgespec run puts them in run.json')
    .option('--debug-tensors', 'debug build: the image also writes every intermediate tensor after each step (to debug-tensors.bin), for edgespec diff; default --out BUNDLE/build/TARGET[-int8]-debug')
    .option('--dtype <dtype>', 'float32 or int8 (post-training static quantization; a bundle with its own quantization, e.g. from an int8 .tflite, builds int8 with it); default float32, or int8 for such a bundle', parseDtype)
    .option('--calibration <path>', 'int8: calibration inputs, a .safetensors file or a directory of .npy files (with the bundle\'s reference input)')
    .option('--kernel-variant <variant>', 'neon: the hand-written NEON paths where a kernel has them (AArch64 targets); portable: compile with -DES_NO_NEON, only the portable C paths (GNU C vector extensions and plain loops, which gcc still vectorizes at -O3), to measure what the NEON paths buy; host has no NEON paths', parseKernelVariant, 'neon')
    .option('--kernel <kernel>', `linux-vm: the Linux kernel it boots, ${KERNEL_KINDS.join(' or ')} (configured from linux-source-6.1 down to what the model needs, built once per configuration and cached; or Debian's generic arm64 kernel, fetched with scripts/debian-arm64-kernel.sh)`, parseKernel, DEFAULT_KERNEL)
    .option('--json', 'print JSON-line events')
    .action(async (bundle: string, opts: { kernel: KernelKind; target: string; out?: string; profile?: boolean; debugTensors?: boolean; dtype?: Dtype; calibration?: string; kernelVariant: KernelVariant; json?: boolean }) => {
      const reporter = ctx.reporter(opts);
      const result = await buildBundle({ bundleDir: bundle, target: opts.target, outDir: opts.out, reporter, profile: opts.profile, debugTensors: opts.debugTensors, dtype: opts.dtype, calibration: opts.calibration, kernelVariant: opts.kernelVariant, kernel: opts.kernel });
      reporter.result('build', { dir: result.dir, manifest: result.manifest, totals: result.footprint.totals }, () => formatBuildSummary(result));
    });
};

export function formatBuildSummary(r: BuildResult): string {
  const { manifest: m, footprint: f } = r;
  const t = f.totals;
  const flash = f.tree.children?.find(c => c.name === 'flash');
  const rows = (flash?.children ?? []).map(g => [g.name, formatBytes(g.bytes)]);
  return [
    `built ${m.model} for ${m.target} in ${r.dir}`,
    `  image     ${m.image} ${formatBytes(t.image_bytes.value)}`,
    `  weights   ${formatBytes(t.weights_bytes.value)}`,
    `  overhead  ${formatBytes(t.overhead_bytes.value)} (image - weights)`,
    `  arena     ${formatBytes(m.arena.bytes)}, lower bound ${formatBytes(m.arena.lower_bound)} (${(m.arena.bytes / Math.max(1, m.arena.lower_bound)).toFixed(3)}x)`,
    `  peak RAM  ${formatBytes(t.peak_ram_bytes.value)}`,
    `  kernels   ${m.kernels.join(', ')}${m.kernel_variant === 'portable' ? ' (portable variant: -DES_NO_NEON)' : ''}`,
    ...formatLinuxVm(f),
    '',
    formatTable(['image bytes by part', 'bytes'], rows, [false, true]),
    ...formatReferenceStack(f),
    '',
    `next: edgespec run ${r.dir}`
  ].join('\n');
}

/** linux-vm: what boots, and Debian's generic kernel beside it. */
function formatLinuxVm(f: BuildResult['footprint']): string[] {
  const vm = f.linux_vm;
  if (!vm) return [];
  const generic = vm.generic_kernel ? [`  generic   ${vm.generic_kernel.name}: Image ${formatBytes(vm.generic_kernel.image_bytes)}, installed with its modules ${formatBytes(vm.generic_kernel.installed_bytes)}`] : [];
  return [
    `  boots     ${vm.kernel.file} ${formatBytes(vm.kernel.bytes)} (${vm.kernel.kind} Linux ${vm.kernel.version}) + ${vm.initramfs.file} ${formatBytes(vm.initramfs.bytes)} = ${formatBytes(vm.total_bytes)}`,
    ...generic
  ];
}

/** The image beside the framework stack it replaces, as measured on this machine. */
function formatReferenceStack(f: BuildResult['footprint']): string[] {
  const layers = f.reference_stack ?? [];
  if (!layers.length) return [];
  const total = layers.reduce((sum, l) => sum + l.bytes, 0);
  const image = deployedBytes(f).value;
  return [
    '',
    `  against the framework stack on this machine (files on disk; OS not counted unless listed):`,
    ...layers.map(l => `    ${l.name.padEnd(26)} ${formatBytes(l.bytes)}`),
    `    ${'total'.padEnd(26)} ${formatBytes(total)}: ${(total / Math.max(1, image)).toFixed(0)}x the ${f.linux_vm ? 'kernel + initramfs' : 'image'}`
  ];
}
