// The schedule: one kernel call per step, with every argument decided, ready for the
// memory planner and the code generator. Tensor fields name tensors of the schedule;
// the code generator turns them into arena, weight or platform-buffer pointers.

import { Activation, Provenance } from './ir';

export type Shape4 = { n: number; h: number; w: number; c: number };

interface StepOf<K extends string, Args> {
  kernel: K;
  /** The layer this step computes (module path, framework ops). */
  from: Provenance;
  /** The edgespec op the step came from. */
  op: string;
  reads: string[];
  writes: string[];
  /** Inputs whose buffer the (single) output may take over when they die here (kernel allows in-place). */
  inPlace: string[];
  args: Args;
}

export type Conv2dStep = StepOf<'conv2d', {
  x: string; w: string; b: string | null; y: string; is: Shape4; os: Shape4; kh: number; kw: number;
  strideH: number; strideW: number; padTop: number; padLeft: number; dilationH: number; dilationW: number;
  groups: number; act: Activation;
}>;
export type DepthwiseStep = StepOf<'conv2d_depthwise', {
  x: string; w: string; b: string | null; y: string; is: Shape4; os: Shape4; kh: number; kw: number;
  strideH: number; strideW: number; padTop: number; padLeft: number; dilationH: number; dilationW: number;
  act: Activation;
}>;
export type GemmStep = StepOf<'gemm', { a: string; w: string; b: string | null; y: string; m: number; k: number; n: number; act: Activation }>;
export type MatmulStep = StepOf<'matmul', {
  a: string; b: string; y: string; batch: number; m: number; k: number; n: number; aBatchStride: number; bBatchStride: number;
}>;
export type BinaryKernel = 'add' | 'sub' | 'mul' | 'div' | 'maximum' | 'minimum' | 'prelu' | 'pow_tensor'
  | 'add_i32' | 'sub_i32' | 'mul_i32' | 'add_i64' | 'sub_i64' | 'mul_i64';
export type BinaryStep = StepOf<BinaryKernel, {
  a: string; aStrides: number[]; b: string; bStrides: number[]; y: string; outShape: number[]; act: Activation;
}>;
export type ScalarStep = StepOf<'add_scalar' | 'mul_scalar', { x: string; s: number; y: string; count: number; act: Activation }>;
export type ClampStep = StepOf<'clamp', { x: string; y: string; count: number; lo: number; hi: number }>;
export type UnaryKernel = 'hardswish' | 'hardsigmoid' | 'sigmoid' | 'silu' | 'tanh'
  | 'selu' | 'softsign' | 'mish' | 'exp' | 'erf' | 'log' | 'sqrt' | 'rsqrt' | 'abs' | 'neg';
export type UnaryStep = StepOf<UnaryKernel, { x: string; y: string; count: number }>;
export type GeluStep = StepOf<'gelu', { x: string; y: string; count: number; tanh: boolean }>;
export type LeakyReluStep = StepOf<'leaky_relu', { x: string; y: string; count: number; slope: number }>;
export type QuantizeDynamicStep = StepOf<'quantize_dynamic', { x: string; y: string; rows: number; cols: number; scheme: number }>;
export type EluStep = StepOf<'elu', { x: string; y: string; count: number; alpha: number }>;
export type SoftplusStep = StepOf<'softplus', { x: string; y: string; count: number; beta: number; threshold: number }>;
export type PowStep = StepOf<'pow', { x: string; y: string; count: number; exponent: number }>;
export type ScaleShiftStep = StepOf<'scale_shift', { x: string; scale: string; shift: string; y: string; rows: number; channels: number; act: Activation }>;
export type MaxPoolStep = StepOf<'max_pool2d', {
  x: string; y: string; is: Shape4; os: Shape4; kh: number; kw: number; strideH: number; strideW: number;
  padTop: number; padLeft: number; padBottom: number; padRight: number; dilationH: number; dilationW: number; act: Activation;
}>;
export type AvgPoolStep = StepOf<'avg_pool2d', {
  x: string; y: string; is: Shape4; os: Shape4; kh: number; kw: number; strideH: number; strideW: number;
  padTop: number; padLeft: number; padBottom: number; padRight: number; countIncludePad: boolean; divisorOverride: number; act: Activation;
}>;
export type AdaptiveAvgPoolStep = StepOf<'adaptive_avg_pool2d', { x: string; y: string; is: Shape4; os: Shape4 }>;
export type MeanStep = StepOf<'mean', { x: string; y: string; outer: number; reduce: number; inner: number }>;
export type ReduceStep = StepOf<'sum' | 'reduce_max' | 'reduce_min', { x: string; y: string; outer: number; reduce: number; inner: number }>;
export type ArgReduceStep = StepOf<'argmax' | 'argmin', { x: string; y: string; outer: number; reduce: number; inner: number; last: boolean }>;
export type LayerNormStep = StepOf<'layer_norm', { x: string; w: string | null; b: string | null; y: string; outer: number; inner: number; eps: number }>;
export type GroupNormStep = StepOf<'group_norm', {
  x: string; w: string | null; b: string | null; y: string; batch: number; channels: number; spatial: number; groups: number; channelsLast: boolean; eps: number;
}>;
export type StridedCopyStep = StepOf<'strided_copy', { x: string; y: string; shape: number[]; strides: number[]; offset: number }>;
export type GatherStep = StepOf<'gather', { x: string; y: string; outer: number; axis: number; inner: number; indices: number[] }>;
/** indexBytes 4 (int32) or 8 (int64); tensor: the name an out-of-range index is reported under. */
export type TakeStep = StepOf<'take', {
  x: string; indices: string; y: string; outer: number; axis: number; inner: number; count: number; indexBytes: number; negative: boolean; tensor: string;
}>;
export type IndexCastStep = StepOf<'cast_f32_i32' | 'cast_f32_i64', { x: string; y: string; count: number }>;
export type WhereStep = StepOf<'where', {
  cond: string; x: string; other: string; y: string; shape: number[]; condStrides: number[]; xStrides: number[]; otherStrides: number[];
}>;
export type SoftmaxStep = StepOf<'softmax' | 'log_softmax', { x: string; y: string; outer: number; axis: number; inner: number }>;
export type ConcatStep = StepOf<'concat', { xs: string[]; sizes: number[]; y: string; outer: number; inner: number }>;
export type SplitStep = StepOf<'split', { x: string; ys: string[]; sizes: number[]; outer: number; inner: number }>;
export type TransposeStep = StepOf<'transpose', { x: string; inShape: number[]; perm: number[]; y: string }>;
export type PadStep = StepOf<'pad', { x: string; inShape: number[]; pads: number[]; value: number; y: string }>;
export type CopyStep = StepOf<'copy', { x: string; y: string; count: number }>;
/** A reshape whose output shares its input's bytes: no code, the planner gives both one buffer. */
export type AliasStep = StepOf<'alias', { x: string; y: string }>;
export type ConvTranspose2dStep = StepOf<'conv_transpose2d', {
  x: string; w: string; b: string | null; y: string; is: Shape4; os: Shape4; kh: number; kw: number;
  strideH: number; strideW: number; padTop: number; padLeft: number; dilationH: number; dilationW: number;
  groups: number; act: Activation;
}>;
/** Source coordinate of output index i: (i + offsetIn) * inv - offsetOut, per axis ((i + offsetIn) / inv - offsetOut when divide). */
/** mode 0 reflect, 1 edge, 2 symmetric; pads [before, after] per dim, flat. */
export type PadMirrorStep = StepOf<'pad_mirror', { x: string; inShape: number[]; pads: number[]; mode: number; y: string }>;
export type ResizeStep = StepOf<'resize_nearest' | 'resize_bilinear', {
  x: string; y: string; is: Shape4; os: Shape4; invH: number; invW: number; offsetIn: number; offsetOut: number;
  nearestMode: number; divide: boolean; corners: boolean;
}>;

export type KernelStep =
  | Conv2dStep | DepthwiseStep | GemmStep | MatmulStep | BinaryStep | ScalarStep | ClampStep | UnaryStep | GeluStep | LeakyReluStep | QuantizeDynamicStep
  | EluStep | SoftplusStep | PowStep
  | ScaleShiftStep | MaxPoolStep | AvgPoolStep | AdaptiveAvgPoolStep | MeanStep | ReduceStep | ArgReduceStep | LayerNormStep | GroupNormStep | StridedCopyStep | GatherStep | TakeStep | IndexCastStep | WhereStep | SoftmaxStep | ConcatStep | SplitStep
  | TransposeStep | PadStep | CopyStep | AliasStep
  | ConvTranspose2dStep | ResizeStep | PadMirrorStep;

export type KernelName = Exclude<KernelStep['kernel'], 'alias'>;

/** The C function of a kernel (kernels/include/edgespec/kernels.h). */
export function kernelFunction(kernel: KernelName): string {
  // int8 kernels (src/toolchain/build/quantize) are named with their suffix: conv2d_s8; so are
  // the integer kernels of index tensors: add_i64, cast_f32_i32.
  return /_(s8|i32|i64)$/.test(kernel) ? `es_${kernel}` : `es_${kernel}_f32`;
}

/** A weight as the kernel that reads it wants it laid out. */
export interface PackedWeight {
  name: string;
  /** The graph.json tensor(s) it was made from. */
  source: string;
  /** Layer that owns it, for footprint attribution. */
  module: string;
  shape: number[];
  data: Float32Array;
  /** How it was re-laid, e.g. "OIHW→[KH][KW][C]". */
  packing: string;
  /** An integer constant (an operand of integer arithmetic): stored in this dtype. Absent: float32. */
  dtype?: 'int32' | 'int64';
}

/** Where an activation tensor of the schedule lives. */
export type TensorHome = 'arena' | 'input' | 'output';

export interface ScheduledTensor {
  name: string;
  shape: number[];
  bytes: number;
  home: TensorHome;
  /** For graph inputs and outputs: their index among the graph's inputs / outputs. */
  ioIndex?: number;
}

export interface ScheduleIO {
  name: string;
  tensor: string;
  shape: number[];
  layout: string;
  bytes: number;
  /** An integer input or output (indices, argmax); absent: float32. */
  dtype?: 'int32' | 'int64';
}

export interface Schedule {
  model: string;
  steps: KernelStep[];
  tensors: Map<string, ScheduledTensor>;
  /** In order of first use: the order of the weights blob. */
  weights: PackedWeight[];
  inputs: ScheduleIO[];
  outputs: ScheduleIO[];
}
