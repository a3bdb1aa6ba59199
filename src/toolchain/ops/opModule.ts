// What an op module provides, and what each build phase lends it. An op module
// (src/toolchain/ops/<family>.ts) owns everything the build knows about its ops: the typed IR
// node read from graph.json, the NHWC layout rule, the kernel choice with its arguments and
// weight packing; and about its kernels: the fp32 C call, the int8 lowering and the
// reference used for calibration. Phases find modules through ops/registry.ts.

import { GraphNode } from '../../common/types';
import { AttrReader } from '../build/attrs';
import { IrNode, IrTensor, MemoryLayout, Provenance } from '../build/ir';
import { Packed } from '../build/packWeights';
import { KernelStep, PackedWeight } from '../build/schedule';
import type { Dtype, MixedStep, PointerNames, RawWeight } from '../build/quantize/mixedSchedule';
import type { QParams } from '../build/quantize/params';
import type { GivenQuantization } from '../build/quantize/givenQuantization';

/** A node's provenance, inputs and outputs: what toIr adds typed attributes to. */
export type NodeBase = Provenance & { inputs: string[]; outputs: string[] };

/** toNHWC's view of the graph being rewritten (passes/toNHWC.ts). */
export interface LayoutContext {
  tensor(name: string): IrTensor;
  originalLayout(name: string): MemoryLayout;
  /** A 4-D tensor not in the plain layout. */
  is4d(name: string): boolean;
  /** Memory dim k of `name` stored in `layout` holds original dim order[k]. */
  memoryOrder(name: string, layout: MemoryLayout): number[];
  /** The memory dim that holds original dim `axis` of `name` once it is stored in `layout`. */
  memoryAxis(name: string, axis: number, layout: MemoryLayout): number;
  /** Puts a freshly produced tensor into `layout`. */
  produce(name: string, layout: MemoryLayout): void;
  /** A tensor holding `name` in `layout`, converting it once if needed. */
  want(name: string, layout: MemoryLayout, module: string): string;
  /** A lower-rank operand broadcast against a 4-D result, as a 4-D tensor. */
  expandTo4d(name: string, layout: MemoryLayout, module: string): string;
  /** The layout of a layout-agnostic op: the one its inputs share. */
  agnosticLayout(inputs: string[]): MemoryLayout;
  /** `name` with its bytes in the framework's order. */
  inOriginalOrder(name: string, module: string): string;
  /** Does reducing `axes` (original dims) leave the remaining dims in the original order? */
  keepsOrder(name: string, axes: number[], layout: MemoryLayout): boolean;
}

/** Thrown by a module's select for a node the kernels cannot run; collected into one error. */
export class NotSupported extends Error {}

/** Kernel selection's view of the schedule being built (build/selectKernel.ts). */
export interface SelectContext {
  tensor(name: string): IrTensor;
  /** The tensor a weight alias (a reshaped weight) stands for, or the name itself. */
  source(name: string): string;
  isWeight(name: string): boolean;
  /** An activation operand, registered in the schedule's tensor table. */
  act(name: string): string;
  /** A weight operand, packed once per packing and kept in order of first use. */
  weight(name: string, packingKey?: string, pack?: (t: IrTensor) => Packed): string;
  /** A weight or an activation, whichever `name` is. */
  operand(name: string): string;
  /** A packed weight of the schedule, by its key. */
  packed(key: string): PackedWeight | undefined;
  /** Makes `alias` stand for the weight `name` (a reshape of a constant). */
  aliasWeight(alias: string, name: string): void;
  /** Where a registered tensor lives, if it is registered. */
  homeOf(name: string): 'arena' | 'input' | 'output' | undefined;
  /** How many nodes read `name`. */
  readerCount(name: string): number | undefined;
  /** The graph input's name when `tensor` is one (what an error about its values names). */
  inputName?(tensor: string): string | undefined;
  push(step: Omit<KernelStep, 'from' | 'op'>, node: Provenance & { op: string }): void;
  /** Throws bad-graph when `actual` is not `expected`. */
  expect(node: IrNode, what: string, actual: number[], expected: number[]): void;
}

export type { PointerNames };

/** The int8 lowering's view of the mixed schedule being built (build/quantize/quantizeSchedule.ts). */
export interface Int8Context {
  /** The bundle's own quantization (an int8 .tflite), if any. */
  readonly given?: GivenQuantization;
  /** The fp32 schedule's packed weights, by name. */
  readonly fpWeights: Map<string, PackedWeight>;
  /** The tensor `name` as `want`, converting (once) if it is held in the other dtype. */
  as(name: string, want: Dtype, from: Provenance): string;
  /** The quantization of a tensor already held in int8. */
  paramsOf(name: string): QParams;
  /** The quantization chosen for `name` (calibrated or given). */
  rangeParams(name: string): QParams;
  /** Where an int8 step writes `y`: y itself, or an arena tensor dequantized into a graph output. */
  outputS8(y: string, p: QParams, then: (target: string) => void, from: Provenance): void;
  /** Given quantization: x and y have the same parameters. */
  sameGivenParams(x: string, y: string): boolean;
  addWeight(w: RawWeight): string;
  /**
   * The pack slot of a call whose weights, bias and requantization tables are these constants
   * (kernels_int8.h: the host's VNNI panels pack them on the first call and keep them): one
   * number per distinct list, 0 past the kernels' PACK_SLOTS.
   */
  packSlot(constants: readonly string[]): number;
  /** The dtype a tensor is held in, if it is held yet. */
  dtypeOf(name: string): Dtype | undefined;
  /** Where a tensor of the int8 schedule lives. */
  homeOf(name: string): 'arena' | 'input' | 'output' | undefined;
  /** Where a tensor of the fp32 schedule lives. */
  fpHomeOf(name: string): 'arena' | 'input' | 'output' | undefined;
  /** Dequantizes the int8 tensor `x` into `y` (a platform buffer), held f32. */
  dequantizeInto(x: string, y: string, from: Provenance): void;
  /** Holds `name` (a tensor of the fp32 schedule) in `dtype`, with `params` when int8. */
  hold(name: string, dtype: Dtype, params?: QParams): void;
  push(step: MixedStep): void;
  /** The fp32 step as is, its activation inputs dequantized first. */
  fallback(step: KernelStep): void;
}

/** Everything the build knows about one kernel of the schedule. */
export interface KernelModule<S extends KernelStep = KernelStep> {
  /** The C call of a step (no trailing semicolon); `fn` is its C function; undefined for no code. */
  call(step: S, p: PointerNames, fn: string): string | undefined;
  /** Lowers the step into the int8 schedule; without it the step stays fp32. */
  int8?(step: S, q: Int8Context): void;
  /** The int8 C functions the lowering calls when it is not es_<kernel>_s8 (es_lut_s8 for table functions). */
  int8Functions?: readonly string[];
  /** The fp32 reference (calibration): the step's outputs from its inputs. */
  reference(step: S, get: (name: string) => Float32Array, weight: (name: string | null) => Float32Array | null): Float32Array[];
}

/** Everything the build knows about one op of the vocabulary (or of the IR). */
export interface OpRule<N extends IrNode = IrNode> {
  /** Every kernel select may choose for the op (checked when it chooses; read by the ops.json generator). */
  kernels: readonly string[];
  /** graph.json node → typed IR node; absent for ops that only passes make (scale_shift). */
  toIr?(node: GraphNode, a: AttrReader, base: NodeBase): N;
  /** Rewrites the node for NHWC memory (passes/toNHWC.ts). */
  toNHWC(node: N, r: LayoutContext): void;
  /** Chooses the kernel(s), computes arguments and packs weights (build/selectKernel.ts). */
  select(node: N, s: SelectContext): void;
}

/** One op family: its ops and the kernels they choose. */
export interface OpModule {
  ops: Record<string, OpRule>;
  kernels: Record<string, KernelModule>;
}

