import { Measured } from '../../common/types';

/** One model's line of the benchmark; every number says how it was measured. */
export interface BenchModel {
  model: string;
  /** Whether both targets agree with PyTorch (max abs error <= 1e-4 x max|reference|, same top-5). */
  agrees: boolean;
  image_bytes?: Measured;
  weights_bytes?: Measured;
  overhead_bytes?: Measured;
  arena_bytes?: Measured;
  arena_lower_bound?: Measured;
  guest_instructions?: Measured;
  qemu_wall_ms?: Measured;
  host_ms?: Measured;
  onnxruntime_ms?: Measured;
  torch_ms?: Measured;
  /** host_ms / onnxruntime_ms: below 1 means edgespec is faster. */
  host_vs_onnxruntime?: Measured;
  host_vs_torch?: Measured;
  runs: { target: string; status: string; max_abs_error?: number; tolerance?: number; top5_match?: boolean }[];
  errors: string[];
}

/** bench.json, format edgespec.bench version 1. */
export interface BenchReport {
  format: 'edgespec.bench';
  version: 1;
  date: string;
  machine: { cpu: string; cores: number; os: string; node: string; qemu?: string; torch?: string; onnxruntime?: string };
  settings: { runs: number; warmup: number; host_repeats: number; input: string };
  models: BenchModel[];
}
