import { Measured } from '../../common/types';
import { BenchDtype } from './benchTypes';
import { RoundSummary } from './rounds';

export const TINY_MODELS = ['kws', 'vww', 'resnet8', 'autoencoder'] as const;
export type TinyModel = (typeof TINY_MODELS)[number];

export const TINY_TITLES: Record<TinyModel, string> = {
  kws: 'KWS DS-CNN',
  vww: 'VWW MobileNetV1 0.25',
  resnet8: 'ResNet-8',
  autoencoder: 'autoencoder'
};

/** One image against tf.lite.Interpreter (the bundle's reference is its output on the seeded input). */
export interface TinyAgreement {
  target: string;
  status: string;
  max_abs_error?: number;
  tolerance?: number;
  top1_match?: boolean;
  /** int8: max_abs_error in steps of the output's quantization scale (0: bit-exact). */
  steps?: number;
}

/** Interleaved timing rounds against a peer, each side a median of its invokes. */
export interface TinyTiming extends RoundSummary {
  peer: string;
  how: string;
}

export interface TinyRow {
  model: TinyModel;
  dtype: BenchDtype;
  tflite_bytes?: number;
  agreement: TinyAgreement[];
  agrees: boolean;
  image_bytes?: Measured;
  weights_bytes?: Measured;
  overhead_bytes?: Measured;
  arena_bytes?: Measured;
  arena_lower_bound?: Measured;
  guest_instructions?: Measured;
  /** edgespec host vs LiteRT host, interleaved rounds. */
  host?: TinyTiming;
  /** edgespec linux vs LiteRT arm64, both under qemu-aarch64, interleaved rounds. */
  emulated?: TinyTiming;
  /** LiteRT's own output against the bundle reference (tf.lite.Interpreter), to show it runs the same model. */
  litert_max_abs_error?: number;
  tflm?: { version: string; arena_total: number; arena_head: number; arena_tail: number; host_ms: number; host_runs: number; max_abs_error: number; how: string };
  /** Why there is no TFLM column, when there is none. */
  tflm_unavailable?: string;
  errors: string[];
}

/** tiny.json, format edgespec.bench-tiny version 1. */
export interface TinyReport {
  format: 'edgespec.bench-tiny';
  version: 1;
  date: string;
  machine: { cpu: string; cores: number; os: string; node: string; load_average: number[]; fp32_blocks?: string; qemu?: string; litert?: string; tflm?: string; tensorflow?: string };
  settings: { rounds: number; host_runs: number; host_warmup: number; emulated_rounds: number; emulated_runs: number; emulated_warmup: number; tflm_runs: number; seed: number; models: string; input: string };
  emulated_skipped?: string;
  tflm_skipped?: string;
  seconds: number;
  rows: TinyRow[];
}
