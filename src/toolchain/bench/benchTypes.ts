import { Dtype, DTYPES } from '../../common/targets';
import { Measured } from '../../common/types';

export type BenchDtype = Dtype;
export const BENCH_DTYPES: readonly BenchDtype[] = DTYPES;

/** The ratio columns measured in interleaved rounds (src/toolchain/bench/rounds.ts). */
export type RoundRatio = 'host_vs_onnxruntime' | 'host_vs_torch' | 'linux_vs_onnxruntime_arm64';

/** How far the per-round ratios spread: the machine's load moves them. */
export interface RatioRange {
  min: number;
  max: number;
  rounds: number;
}

/** One model's line of the benchmark; every number says how it was measured. */
export interface BenchModel {
  model: string;
  /** The images' arithmetic (`edgespec build --dtype`) and the onnxruntime peer's; absent in older files: float32. */
  dtype?: BenchDtype;
  /** Whether both targets agree with PyTorch as `edgespec run` judges them (float32: max abs error <= 1e-4 x max|reference|, same top-5; int8: <= 5e-2 x max|reference|, same top-1). */
  agrees: boolean;
  image_bytes?: Measured;
  weights_bytes?: Measured;
  overhead_bytes?: Measured;
  arena_bytes?: Measured;
  arena_lower_bound?: Measured;
  guest_instructions?: Measured;
  /** The same qemu-virt image built with --kernel-variant portable (no hand-written NEON paths). */
  guest_instructions_portable?: Measured;
  /** guest_instructions / guest_instructions_portable: below 1 means the NEON paths save instructions. */
  neon_vs_portable?: Measured;
  qemu_wall_ms?: Measured;
  host_ms?: Measured;
  onnxruntime_ms?: Measured;
  torch_ms?: Measured;
  /** host_ms / onnxruntime_ms: below 1 means edgespec is faster. */
  host_vs_onnxruntime?: Measured;
  host_vs_torch?: Measured;
  /** The linux executable under qemu-aarch64 (cortex-a72): median of one inference. */
  linux_qemu_ms?: Measured;
  /** onnxruntime-node's arm64 build in Debian's arm64 Node.js under the same qemu-aarch64. */
  onnxruntime_arm64_ms?: Measured;
  /** linux_qemu_ms / onnxruntime_arm64_ms: below 1 means edgespec is faster. */
  linux_vs_onnxruntime_arm64?: Measured;
  /** The smallest and largest per-round ratio of each ratio column timed in interleaved rounds. */
  round_ratios?: Partial<Record<RoundRatio, RatioRange>>;
  /** qemu-virt in serve mode: N inputs through one boot (edgespec run --inputs), QEMU's wall time. */
  stream_ms?: Measured;
  /** The same N inputs as N separate boots (edgespec run, one each): the sum of their QEMU wall times. */
  boots_ms?: Measured;
  /** stream_ms / boots_ms: below 1 means streaming saves time. */
  stream_vs_boots?: Measured;
  runs: { target: string; status: string; max_abs_error?: number; tolerance?: number; top1_match?: boolean; top5_match?: boolean }[];
  errors: string[];
}

/** bench.json, format edgespec.bench version 1. */
export interface BenchReport {
  format: 'edgespec.bench';
  version: 1;
  date: string;
  machine: { cpu: string; cores: number; os: string; node: string; /** the host image's fp32 block sizes and the CPU facts they came from */ fp32_blocks?: string; qemu?: string; torch?: string; onnxruntime?: string };
  settings: { /** interleaved timing rounds (absent in older files: one after the other) */ rounds?: number; runs: number; dtypes?: string; warmup: number; host_repeats: number; input: string; emulated_runs?: number; emulated_warmup?: number; portable_models?: string[]; stream_inputs?: number };
  /** Why the columns under qemu-aarch64 are missing, when they are. */
  arm64_peer_skipped?: string;
  models: BenchModel[];
}
