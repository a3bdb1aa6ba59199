// The build stage's internal graph: graph.json with typed attributes, weights in memory,
// and each tensor's memory layout. Passes take an IrGraph and return a new one.

/**
 * How a tensor's bytes are ordered. `shape` is always the shape in memory:
 * - `NCHW`: a 4-D activation in the framework's PyTorch order;
 * - `NHWC`: a 4-D activation with channels innermost (what the kernels want);
 * - `plain`: any other tensor (weights, 2-D activations, 5-D views...).
 */
export type MemoryLayout = 'NCHW' | 'NHWC' | 'plain';

export type TensorRole = 'input' | 'output' | 'activation' | 'weight';

export interface IrTensor {
  name: string;
  shape: number[];
  role: TensorRole;
  layout: MemoryLayout;
  /** The layer that owns a weight (for footprint attribution). */
  module?: string;
  /** fp32 contents of a weight, in `shape` order. */
  data?: Float32Array;
  /** An integer tensor (indices, argmax results): its dtype in the image. Absent: the build's float arithmetic. */
  dtype?: IntegerDtype;
}

export type IntegerDtype = 'int32' | 'int64';

/** Bytes per element of a tensor of the IR (int8 images size their own tensors). */
export function elementBytes(t: Pick<IrTensor, 'dtype'>): number {
  return t.dtype === 'int64' ? 8 : 4;
}

/** A fused clamp applied to an op's result; ±Infinity when absent. */
export interface Activation {
  min: number;
  max: number;
}

export const NO_ACTIVATION: Activation = Object.freeze({ min: -Infinity, max: Infinity });

export interface Provenance {
  name: string;
  module: string;
  frameworkOps: string[];
  source?: string;
}

interface NodeOf<Op extends string, Attrs> extends Provenance {
  op: Op;
  inputs: string[];
  outputs: string[];
  attrs: Attrs;
}

export type Pair = [number, number];
/** Conv weights: [O][I/g][KH][KW], [O][KH][KW][I/g], or TFLite depthwise [1][KH][KW][O]. */
export type WeightLayout = 'OIHW' | 'OHWI' | '1HWO';
/** [top, left, bottom, right] */
export type Padding4 = [number, number, number, number];

export type Conv2dNode = NodeOf<'conv2d', {
  stride: Pair;
  padding: Padding4;
  dilation: Pair;
  groups: number;
  weightLayout: WeightLayout;
  activation: Activation;
}>;
export type LinearNode = NodeOf<'linear', { activation: Activation }>;
export type MatmulNode = NodeOf<'matmul', Record<string, never>>;
export type BinaryOp = 'add' | 'sub' | 'mul' | 'div' | 'maximum' | 'minimum' | 'prelu' | 'pow_tensor';
export type BinaryNode = NodeOf<BinaryOp, { scalar?: number; activation: Activation }>;
export type UnaryOp = 'relu' | 'hardswish' | 'hardsigmoid' | 'sigmoid' | 'silu' | 'tanh'
  | 'selu' | 'softsign' | 'mish' | 'exp' | 'erf' | 'log' | 'sqrt' | 'rsqrt' | 'abs' | 'neg';
export type UnaryNode = NodeOf<UnaryOp, Record<string, never>>;
export type ClampNode = NodeOf<'clamp', { min: number; max: number }>;
export type GeluNode = NodeOf<'gelu', { approximate: 'none' | 'tanh' }>;
export type LeakyReluNode = NodeOf<'leaky_relu', { negativeSlope: number }>;
export type QuantizeDynamicScheme = 'uint8_asymmetric' | 'int8_symmetric' | 'int8_asymmetric';
export type QuantizeDynamicNode = NodeOf<'quantize_dynamic', { scheme: QuantizeDynamicScheme; axis: number }>;
export type EluNode = NodeOf<'elu', { alpha: number }>;
/** threshold: Infinity when absent (ONNX Softplus). */
export type SoftplusNode = NodeOf<'softplus', { beta: number; threshold: number }>;
export type PowNode = NodeOf<'pow', { exponent: number }>;
export type MaxPoolNode = NodeOf<'max_pool2d', {
  kernel: Pair;
  stride: Pair;
  padding: Padding4;
  dilation: Pair;
  ceilMode: boolean;
  activation: Activation;
}>;
export type AvgPoolNode = NodeOf<'avg_pool2d', {
  kernel: Pair;
  stride: Pair;
  padding: Padding4;
  ceilMode: boolean;
  countIncludePad: boolean;
  divisorOverride: number | null;
  activation: Activation;
}>;
export type AdaptiveAvgPoolNode = NodeOf<'adaptive_avg_pool2d', { outputSize: Pair }>;
export type MeanNode = NodeOf<'mean', { axes: number[]; keepdim: boolean }>;
export type SoftmaxNode = NodeOf<'softmax', { axis: number }>;
export type LogSoftmaxNode = NodeOf<'log_softmax', { axis: number }>;
export type ReduceOp = 'sum' | 'reduce_max' | 'reduce_min';
export type ReduceNode = NodeOf<ReduceOp, { axes: number[]; keepdim: boolean }>;
/** The index along `axis`, held as a float32 number. */
export type ArgReduceNode = NodeOf<'argmax' | 'argmin', { axis: number; keepdim: boolean; selectLastIndex: boolean }>;
/** Normalizes over dims axis.. of x; inputs: x, weight?, bias? (of the normalized dims' shape). */
export type LayerNormNode = NodeOf<'layer_norm', { axis: number; eps: number }>;
/** Normalizes each group of channels (axis 1) over its channels and every later dim; inputs: x, weight? [C], bias? [C]. */
export type GroupNormNode = NodeOf<'group_norm', { groups: number; eps: number }>;
/** y[i] = x[starts + i * steps] per axis, sizes[d] elements along axis d. */
export type SliceNode = NodeOf<'slice', { starts: number[]; sizes: number[]; steps: number[] }>;
/** x broadcast (NumPy rules) to `shape`. */
export type ExpandNode = NodeOf<'expand', { shape: number[] }>;
export type TileNode = NodeOf<'tile', { repeats: number[] }>;
/** y = x[..., indices, ...] along axis (constant indices, one output dim per index). */
export type GatherNode = NodeOf<'gather', { axis: number; indices: number[] }>;
/** y = x with axis replaced by the dims of the run-time index tensor (inputs: x, indices int32 / int64). */
export type TakeNode = NodeOf<'take', { axis: number; negativeIndices: boolean }>;
/** An index computed as a float32 number (argmax) stored as the integer output the framework gives. */
export type IndexCastNode = NodeOf<'index_cast', { to: IntegerDtype }>;
/** inputs: condition (a constant, non-zero = true), x, other; all broadcast to the output. */
export type WhereNode = NodeOf<'where', Record<string, never>>;
/** inputs: x, weight, bias, running_mean, running_var */
export type BatchNormNode = NodeOf<'batch_norm', { eps: number }>;
/** Per-channel affine y = x * scale[c] + shift[c], c the index along `axis` (an unfolded batch norm). inputs: x, scale, shift */
export type ScaleShiftNode = NodeOf<'scale_shift', { axis: number; activation: Activation }>;
export type ReshapeNode = NodeOf<'reshape', { shape: number[] }>;
export type TransposeNode = NodeOf<'transpose', { perm: number[] }>;
export type ConcatNode = NodeOf<'concat', { axis: number }>;
export type SplitNode = NodeOf<'split', { axis: number; sizes: number[] }>;
/** mode: constant (value), reflect (mirror without the edge), edge (repeat it), symmetric (mirror with it). */
export type PadNode = NodeOf<'pad', { pads: Pair[]; value: number; mode: 'constant' | 'reflect' | 'edge' | 'symmetric' }>;
/** weight [I, O/groups, KH, KW] (IOHW: PyTorch, ONNX) or [O, KH, KW, I] (OHWI: TFLite); padding crops the full output. */
export type ConvTranspose2dNode = NodeOf<'conv_transpose2d', {
  stride: Pair;
  padding: Padding4;
  outputPadding: Pair;
  dilation: Pair;
  groups: number;
  weightLayout: 'IOHW' | 'OHWI';
  activation: Activation;
}>;
export type ResizeCoordinates = 'half_pixel' | 'pytorch_half_pixel' | 'align_corners' | 'asymmetric' | 'tf_half_pixel_for_nn';
export type NearestMode = 'round_prefer_floor' | 'round_prefer_ceil' | 'floor' | 'ceil';
/** scale: the output/input ratio the coordinate mapping uses, [sh, sw] (null: the sizes' ratio). */
export type ResizeNode = NodeOf<'resize', {
  size: Pair;
  mode: 'nearest' | 'bilinear';
  coordinates: ResizeCoordinates;
  nearestMode: NearestMode;
  scale: Pair | null;
}>;

export type IrNode =
  | Conv2dNode
  | LinearNode
  | MatmulNode
  | BinaryNode
  | UnaryNode
  | ClampNode
  | GeluNode
  | LeakyReluNode
  | QuantizeDynamicNode
  | EluNode
  | SoftplusNode
  | PowNode
  | MaxPoolNode
  | AvgPoolNode
  | AdaptiveAvgPoolNode
  | MeanNode
  | SoftmaxNode
  | LogSoftmaxNode
  | ReduceNode
  | ArgReduceNode
  | LayerNormNode
  | GroupNormNode
  | SliceNode
  | ExpandNode
  | TileNode
  | GatherNode
  | TakeNode
  | IndexCastNode
  | WhereNode
  | BatchNormNode
  | ScaleShiftNode
  | ReshapeNode
  | TransposeNode
  | ConcatNode
  | SplitNode
  | PadNode
  | ConvTranspose2dNode
  | ResizeNode;

export type IrOp = IrNode['op'];

export interface IrIO {
  /** The name the framework gave this input or output. */
  name: string;
  tensor: string;
}

export interface IrGraph {
  name: string;
  inputs: IrIO[];
  outputs: IrIO[];
  tensors: Map<string, IrTensor>;
  /** Topological order; this order is the schedule. */
  nodes: IrNode[];
}

/** Ops whose result may take a fused clamp. */
export function hasActivation(node: IrNode): node is Extract<IrNode, { attrs: { activation: Activation } }> {
  return 'activation' in node.attrs;
}
