import { EdgespecError } from '../errors';
import { unsupportedError, Unsupported } from './graphToIr';
import { GraphIndex } from './graphIndex';
import {
  AvgPoolNode, BinaryNode, Conv2dNode, IrGraph, IrNode, IrTensor, LinearNode, MatmulNode, MaxPoolNode, NO_ACTIVATION, Provenance
} from './ir';
import { convWeightDims, Packed, packConv, packDepthwise, packLinear, packPointwise } from './packWeights';
import {
  KernelStep, PackedWeight, Schedule, ScheduledTensor, ScheduleIO, Shape4
} from './schedule';
import { broadcastStrides, formatShape, numel, sameShape } from './shape';

const MAX_TRANSPOSE_RANK = 6;

function shape4(shape: number[]): Shape4 {
  const [n, h, w, c] = shape;
  return { n, h, w, c };
}

/** Thrown by a handler for a node the kernels cannot run; collected into one error. */
class NotSupported extends Error {}

function convOutputSize(size: number, k: number, stride: number, before: number, after: number, dilation: number, ceil: boolean): number {
  const span = size + before + after - dilation * (k - 1) - 1;
  return (ceil ? Math.ceil(span / stride) : Math.floor(span / stride)) + 1;
}

/**
 * Chooses the kernel of every node of an NHWC graph, computes its arguments, and re-lays
 * each weight for the kernel that reads it. Every node that no kernel can run is reported
 * together in one error.
 */
export function selectKernels(graph: IrGraph, target: string): Schedule {
  return new KernelSelector(graph).run(target);
}

class KernelSelector {
  private readonly steps: KernelStep[] = [];
  private readonly weights = new Map<string, PackedWeight>();
  private readonly weightAliases = new Map<string, string>();
  private readonly tensors = new Map<string, ScheduledTensor>();
  private readonly unsupported: Unsupported[] = [];

  private readonly index: GraphIndex;

  constructor(private readonly g: IrGraph) {
    this.index = new GraphIndex(g);
  }

  run(target: string): Schedule {
    this.g.inputs.forEach((io, i) => this.registerActivation(io.tensor, 'input', i));
    this.g.outputs.forEach((io, i) => this.registerActivation(io.tensor, 'output', i));
    for (const node of this.g.nodes) {
      try {
        this.select(node);
      } catch (e) {
        if (!(e instanceof NotSupported)) throw e;
        this.unsupported.push({ node: node.name, op: node.op, module: node.module, reason: e.message });
      }
    }
    if (this.unsupported.length > 0) throw unsupportedError(this.unsupported, target);
    const io = (list: { name: string; tensor: string }[]): ScheduleIO[] =>
      list.map(({ name, tensor }) => {
        const t = this.tensor(tensor);
        return { name, tensor, shape: [...t.shape], layout: t.layout, bytes: numel(t.shape) * 4 };
      });
    return {
      model: this.g.name,
      steps: this.steps,
      tensors: this.tensors,
      weights: [...this.weights.values()],
      inputs: io(this.g.inputs),
      outputs: io(this.g.outputs)
    };
  }

  private tensor(name: string): IrTensor {
    const t = this.g.tensors.get(name);
    if (!t) throw new Error(`internal: no tensor ${name}`);
    return t;
  }

  private isWeight(name: string): boolean {
    return this.weightAliases.has(name) || this.tensor(name).role === 'weight';
  }

  private registerActivation(name: string, home: 'arena' | 'input' | 'output', ioIndex?: number): string {
    if (!this.tensors.has(name)) {
      const t = this.tensor(name);
      this.tensors.set(name, { name, shape: [...t.shape], bytes: numel(t.shape) * 4, home, ...(ioIndex !== undefined ? { ioIndex } : {}) });
    }
    return name;
  }

  /** An activation operand: registered in the schedule's tensor table. */
  private act(name: string): string {
    if (this.isWeight(name)) throw new NotSupported(`tensor ${name} is a constant where the kernel needs an activation`);
    return this.registerActivation(name, 'arena');
  }

  /** A weight operand, packed once per packing and kept in order of first use. */
  private weight(name: string, packingKey = 'as-is', pack?: (t: IrTensor) => Packed): string {
    const source = this.weightAliases.get(name) ?? name;
    const t = this.tensor(source);
    const key = packingKey === 'as-is' ? source : `${source}#${packingKey}`;
    if (!this.weights.has(key)) {
      const packed = pack ? pack(t) : { shape: [...t.shape], data: t.data!, packing: 'as is' };
      this.weights.set(key, { name: key, source, module: t.module ?? '', ...packed });
    }
    return key;
  }

  private operand(name: string): string {
    return this.isWeight(name) ? this.weight(name) : this.act(name);
  }

  private push(step: Omit<KernelStep, 'from' | 'op'>, node: Provenance & { op: string }): void {
    const from: Provenance = { name: node.name, module: node.module, frameworkOps: node.frameworkOps, ...(node.source ? { source: node.source } : {}) };
    this.steps.push({ ...step, from, op: node.op } as KernelStep);
  }

  private expect(node: IrNode, what: string, actual: number[], expected: number[]): void {
    if (!sameShape(actual, expected)) {
      throw new EdgespecError('bad-graph', `node ${node.name} (${node.op}, ${node.module}): ${what} has shape ${formatShape(actual)}, expected ${formatShape(expected)}`, 'capture the model again; graph.json is inconsistent');
    }
  }

  private select(node: IrNode): void {
    switch (node.op) {
      case 'conv2d': return this.conv2d(node);
      case 'linear': return this.linear(node);
      case 'matmul': return this.matmul(node);
      case 'add': case 'sub': case 'mul': case 'div': return this.binary(node);
      case 'relu':
      case 'clamp': {
        const [x] = node.inputs;
        const [y] = node.outputs;
        const [lo, hi] = node.op === 'relu' ? [0, Infinity] : [node.attrs.min, node.attrs.max];
        return this.push({ kernel: 'clamp', reads: [this.act(x)], writes: [this.act(y)], inPlace: [x], args: { x, y, count: numel(this.tensor(x).shape), lo, hi } }, node);
      }
      case 'hardswish': case 'hardsigmoid': case 'sigmoid': case 'silu': case 'tanh': {
        const [x] = node.inputs;
        const [y] = node.outputs;
        return this.push({ kernel: node.op, reads: [this.act(x)], writes: [this.act(y)], inPlace: [x], args: { x, y, count: numel(this.tensor(x).shape) } }, node);
      }
      case 'gelu': {
        const [x] = node.inputs;
        const [y] = node.outputs;
        return this.push({ kernel: 'gelu', reads: [this.act(x)], writes: [this.act(y)], inPlace: [x], args: { x, y, count: numel(this.tensor(x).shape), tanh: node.attrs.approximate === 'tanh' } }, node);
      }
      case 'scale_shift': {
        const [x, scale, shift] = node.inputs;
        const [y] = node.outputs;
        const shape = this.tensor(x).shape;
        if (node.attrs.axis !== shape.length - 1) {
          throw new NotSupported(`batch norm over axis ${node.attrs.axis} of a ${shape.length}-D tensor cannot be folded, and the unfolded kernel needs channels innermost`);
        }
        const channels = shape[shape.length - 1];
        return this.push({
          kernel: 'scale_shift', reads: [this.act(x), this.weight(scale), this.weight(shift)], writes: [this.act(y)], inPlace: [x],
          args: { x, scale: this.weight(scale), shift: this.weight(shift), y, rows: numel(shape) / channels, channels, act: node.attrs.activation }
        }, node);
      }
      case 'max_pool2d': case 'avg_pool2d': return this.pool(node);
      case 'adaptive_avg_pool2d': {
        const [x] = node.inputs;
        const [y] = node.outputs;
        const is = shape4(this.tensor(x).shape);
        const os = shape4(this.tensor(y).shape);
        this.expect(node, 'output', this.tensor(y).shape, [is.n, node.attrs.outputSize[0], node.attrs.outputSize[1], is.c]);
        if (os.h === 1 && os.w === 1) {
          return this.push({ kernel: 'mean', reads: [this.act(x)], writes: [this.act(y)], inPlace: [], args: { x, y, outer: is.n, reduce: is.h * is.w, inner: is.c } }, node);
        }
        return this.push({ kernel: 'adaptive_avg_pool2d', reads: [this.act(x)], writes: [this.act(y)], inPlace: [], args: { x, y, is, os } }, node);
      }
      case 'mean': {
        const [x] = node.inputs;
        const [y] = node.outputs;
        const shape = this.tensor(x).shape;
        const reduced = node.attrs.axes.filter(a => shape[a] !== 1);
        if (reduced.length === 0) {
          return this.push({ kernel: 'copy', reads: [this.act(x)], writes: [this.act(y)], inPlace: [], args: { x, y, count: numel(shape) } }, node);
        }
        const first = Math.min(...reduced);
        const last = Math.max(...reduced);
        const between = shape.slice(first, last + 1).map((d, i) => ({ d, axis: first + i }));
        if (between.some(({ d, axis }) => d !== 1 && !reduced.includes(axis))) {
          throw new NotSupported(`mean over axes ${JSON.stringify(node.attrs.axes)} of ${formatShape(shape)} is not over adjacent axes`);
        }
        return this.push({
          kernel: 'mean', reads: [this.act(x)], writes: [this.act(y)], inPlace: [],
          args: { x, y, outer: numel(shape.slice(0, first)), reduce: numel(shape.slice(first, last + 1)), inner: numel(shape.slice(last + 1)) }
        }, node);
      }
      case 'softmax': {
        const [x] = node.inputs;
        const [y] = node.outputs;
        const shape = this.tensor(x).shape;
        const a = node.attrs.axis;
        return this.push({
          kernel: 'softmax', reads: [this.act(x)], writes: [this.act(y)], inPlace: [],
          args: { x, y, outer: numel(shape.slice(0, a)), axis: shape[a], inner: numel(shape.slice(a + 1)) }
        }, node);
      }
      case 'concat': {
        const y = node.outputs[0];
        const shape = this.tensor(y).shape;
        const a = node.attrs.axis;
        const xs = node.inputs.map(t => this.act(t));
        return this.push({
          kernel: 'concat', reads: xs, writes: [this.act(y)], inPlace: [],
          args: { xs, sizes: node.inputs.map(t => this.tensor(t).shape[a]), y, outer: numel(shape.slice(0, a)), inner: numel(shape.slice(a + 1)) }
        }, node);
      }
      case 'split': {
        const [x] = node.inputs;
        const shape = this.tensor(x).shape;
        const a = node.attrs.axis;
        const ys = node.outputs.map(t => this.act(t));
        return this.push({
          kernel: 'split', reads: [this.act(x)], writes: ys, inPlace: [],
          args: { x, ys, sizes: node.outputs.map(t => this.tensor(t).shape[a]), outer: numel(shape.slice(0, a)), inner: numel(shape.slice(a + 1)) }
        }, node);
      }
      case 'transpose': {
        const [x] = node.inputs;
        const [y] = node.outputs;
        const inShape = this.tensor(x).shape;
        if (inShape.length > MAX_TRANSPOSE_RANK) throw new NotSupported(`transpose of a ${inShape.length}-D tensor (the kernel handles up to ${MAX_TRANSPOSE_RANK})`);
        this.expect(node, 'output', this.tensor(y).shape, node.attrs.perm.map(p => inShape[p]));
        return this.push({ kernel: 'transpose', reads: [this.act(x)], writes: [this.act(y)], inPlace: [], args: { x, inShape, perm: node.attrs.perm, y } }, node);
      }
      case 'pad': {
        const [x] = node.inputs;
        const [y] = node.outputs;
        const inShape = this.tensor(x).shape;
        if (inShape.length > MAX_TRANSPOSE_RANK) throw new NotSupported(`pad of a ${inShape.length}-D tensor (the kernel handles up to ${MAX_TRANSPOSE_RANK})`);
        if (node.attrs.pads.some(([b, e]) => b < 0 || e < 0)) throw new NotSupported('negative padding (cropping)');
        const pads = inShape.map((_, k) => node.attrs.pads[k] ?? [0, 0]).flat();
        return this.push({ kernel: 'pad', reads: [this.act(x)], writes: [this.act(y)], inPlace: [], args: { x, inShape, pads, value: node.attrs.value, y } }, node);
      }
      case 'reshape': {
        const [x] = node.inputs;
        const [y] = node.outputs;
        if (numel(this.tensor(x).shape) !== numel(this.tensor(y).shape)) {
          this.expect(node, 'output', this.tensor(y).shape, node.attrs.shape);
        }
        if (this.isWeight(x)) {
          this.weightAliases.set(y, this.weightAliases.get(x) ?? x);
          return;
        }
        const yHome = this.tensors.get(y)?.home;
        // A graph output has the platform's buffer. The reshaped tensor can be computed
        // right into it when this reshape is its only reader; otherwise copy.
        const xHome = this.tensors.get(x)?.home ?? 'arena';
        if (yHome === 'output' && (xHome !== 'arena' || this.index.consumers.get(x)?.length !== 1)) {
          return this.push({ kernel: 'copy', reads: [this.act(x)], writes: [this.act(y)], inPlace: [], args: { x, y, count: numel(this.tensor(x).shape) } }, node);
        }
        return this.push({ kernel: 'alias', reads: [this.act(x)], writes: [this.act(y)], inPlace: [], args: { x, y } }, node);
      }
      case 'batch_norm':
        throw new Error('internal: batch_norm reaches kernel selection; run foldBatchNorm first');
    }
  }

  private conv2d(node: Conv2dNode): void {
    const [x, wName, bName] = node.inputs;
    const [y] = node.outputs;
    if (!this.isWeight(wName)) throw new NotSupported('the convolution weight is computed at run time; only constant weights are supported');
    const xs = this.tensor(x).shape;
    const ws = this.tensor(this.weightAliases.get(wName) ?? wName).shape;
    const { stride, padding, dilation, groups, weightLayout, activation } = node.attrs;
    const { o: oc, kh, kw, i: icPerGroup } = convWeightDims(ws, weightLayout);
    const is = shape4(xs);
    if (icPerGroup * groups !== is.c || oc % groups !== 0) {
      throw new EdgespecError('bad-graph', `conv2d ${node.name} (${node.module}): weight ${formatShape(ws)} with groups ${groups} does not fit an input with ${is.c} channels`, 'capture the model again; graph.json is inconsistent');
    }
    const oh = convOutputSize(is.h, kh, stride[0], padding[0], padding[2], dilation[0], false);
    const ow = convOutputSize(is.w, kw, stride[1], padding[1], padding[3], dilation[1], false);
    this.expect(node, 'output', this.tensor(y).shape, [is.n, oh, ow, oc]);
    const os = shape4(this.tensor(y).shape);
    const b = bName === undefined ? null : this.weight(bName);
    const reads = (w: string) => [this.act(x), w, ...(b ? [b] : [])];
    const pointwise = weightLayout !== '1HWO' && groups === 1 && kh === 1 && kw === 1 && stride[0] === 1 && stride[1] === 1 && padding.every(p => p === 0);
    if (pointwise) {
      const w = this.weight(wName, 'gemm', t => packPointwise(t.data!, t.shape));
      this.push({ kernel: 'gemm', reads: reads(w), writes: [this.act(y)], inPlace: [], args: { a: x, w, b, y, m: is.n * is.h * is.w, k: is.c, n: oc, act: activation } }, node);
      return;
    }
    const common = {
      x, b, y, is, os, kh, kw, strideH: stride[0], strideW: stride[1], padTop: padding[0], padLeft: padding[1],
      dilationH: dilation[0], dilationW: dilation[1], act: activation
    };
    if (groups === is.c && oc === is.c && icPerGroup === 1) {
      const w = this.weight(wName, 'depthwise', t => packDepthwise(t.data!, t.shape, weightLayout));
      this.push({ kernel: 'conv2d_depthwise', reads: reads(w), writes: [this.act(y)], inPlace: [], args: { ...common, w } }, node);
      return;
    }
    const w = this.weight(wName, weightLayout === 'OHWI' ? 'as-is' : 'conv', t => packConv(t.data!, t.shape, weightLayout));
    this.push({ kernel: 'conv2d', reads: reads(w), writes: [this.act(y)], inPlace: [], args: { ...common, w, groups } }, node);
  }

  private linear(node: LinearNode): void {
    const [x, wName, bName] = node.inputs;
    const [y] = node.outputs;
    if (!this.isWeight(wName)) throw new NotSupported('the linear weight is computed at run time; only constant weights are supported');
    const xs = this.tensor(x).shape;
    const [o, i] = this.tensor(this.weightAliases.get(wName) ?? wName).shape;
    this.expect(node, 'output', this.tensor(y).shape, [...xs.slice(0, -1), o]);
    if (xs[xs.length - 1] !== i) this.expect(node, 'input', xs, [...xs.slice(0, -1), i]);
    const w = this.weight(wName, 'gemm', t => packLinear(t.data!, t.shape));
    const b = bName === undefined ? null : this.weight(bName);
    this.push({
      kernel: 'gemm', reads: [this.act(x), w, ...(b ? [b] : [])], writes: [this.act(y)], inPlace: [],
      args: { a: x, w, b, y, m: numel(xs) / i, k: i, n: o, act: node.attrs.activation }
    }, node);
  }

  private matmul(node: MatmulNode): void {
    const [aName, bName] = node.inputs;
    const [y] = node.outputs;
    const as = this.tensor(aName).shape;
    const bs = this.tensor(this.weightAliases.get(bName) ?? bName).shape;
    const am = as.length === 1 ? [1, as[0]] : as;
    const bm = bs.length === 1 ? [bs[0], 1] : bs;
    const [m, k] = am.slice(-2);
    const [k2, n] = bm.slice(-2);
    if (k !== k2) this.expect(node, 'second operand', bs, [k, n]);
    if (this.isWeight(aName)) throw new NotSupported('a constant first operand (only the second may be a weight)');
    if (this.isWeight(bName)) {
      if (bm.length !== 2) throw new NotSupported(`a constant second operand of rank ${bs.length} (a [K, N] matrix is supported)`);
      const w = this.weight(bName);
      this.push({
        kernel: 'gemm', reads: [this.act(aName), w], writes: [this.act(y)], inPlace: [],
        args: { a: aName, w, b: null, y, m: numel(am) / k, k, n, act: NO_ACTIVATION }
      }, node);
      return;
    }
    const batch = numel(this.tensor(y).shape) / (m * n);
    const aBatch = numel(am) / (m * k);
    const bBatch = numel(bm) / (k * n);
    if ((aBatch !== batch && aBatch !== 1) || (bBatch !== batch && bBatch !== 1)) {
      throw new NotSupported(`matmul of ${formatShape(as)} and ${formatShape(bs)} broadcasts part of the batch dims`);
    }
    this.push({
      kernel: 'matmul', reads: [this.act(aName), this.act(bName)], writes: [this.act(y)], inPlace: [],
      args: { a: aName, b: bName, y, batch, m, k, n, aBatchStride: aBatch === 1 ? 0 : m * k, bBatchStride: bBatch === 1 ? 0 : k * n }
    }, node);
  }

  private binary(node: BinaryNode): void {
    const y = node.outputs[0];
    const outShape = this.tensor(y).shape;
    const count = numel(outShape);
    const { scalar, activation: act } = node.attrs;
    if (scalar !== undefined) {
      const [x] = node.inputs;
      if (node.op === 'add' || node.op === 'sub') {
        const s = node.op === 'add' ? scalar : -scalar;
        return this.push({ kernel: 'add_scalar', reads: [this.act(x)], writes: [this.act(y)], inPlace: [x], args: { x, s, y, count, act } }, node);
      }
      const s = node.op === 'mul' ? scalar : 1 / scalar;
      return this.push({ kernel: 'mul_scalar', reads: [this.act(x)], writes: [this.act(y)], inPlace: [x], args: { x, s, y, count, act } }, node);
    }
    if (outShape.length > 4) throw new NotSupported(`elementwise ${node.op} on a ${outShape.length}-D tensor (up to 4 dims)`);
    const [a, b] = node.inputs.map(t => this.operand(t));
    const shapeOf = (t: string) => this.tensor(this.weightAliases.get(t) ?? t).shape;
    const padded = [...new Array<number>(4 - outShape.length).fill(1), ...outShape];
    const inPlace = node.inputs.filter(t => !this.isWeight(t) && numel(shapeOf(t)) === count);
    const aShape = this.weights.has(a) ? this.weights.get(a)!.shape : shapeOf(a);
    const bShape = this.weights.has(b) ? this.weights.get(b)!.shape : shapeOf(b);
    this.push({
      kernel: node.op, reads: [a, b], writes: [this.act(y)], inPlace,
      args: { a, aStrides: broadcastStrides(aShape, 4), b, bStrides: broadcastStrides(bShape, 4), y, outShape: padded, act }
    }, node);
  }

  private pool(node: MaxPoolNode | AvgPoolNode): void {
    const [x] = node.inputs;
    const [y] = node.outputs;
    const is = shape4(this.tensor(x).shape);
    const { kernel, stride, padding, ceilMode, activation } = node.attrs;
    const dilation = node.op === 'max_pool2d' ? node.attrs.dilation : [1, 1];
    const size = (i: number, k: number, s: number, b: number, e: number, d: number) =>
      [convOutputSize(i, k, s, b, e, d, false), convOutputSize(i, k, s, b, e, d, ceilMode)];
    const hs = size(is.h, kernel[0], stride[0], padding[0], padding[2], dilation[0]);
    const wsz = size(is.w, kernel[1], stride[1], padding[1], padding[3], dilation[1]);
    const os = shape4(this.tensor(y).shape);
    if (os.n !== is.n || os.c !== is.c || !hs.includes(os.h) || !wsz.includes(os.w)) {
      this.expect(node, 'output', this.tensor(y).shape, [is.n, hs[1], wsz[1], is.c]);
    }
    const common = {
      x, y, is, os, kh: kernel[0], kw: kernel[1], strideH: stride[0], strideW: stride[1],
      padTop: padding[0], padLeft: padding[1], padBottom: padding[2], padRight: padding[3], act: activation
    };
    if (node.op === 'max_pool2d') {
      this.push({ kernel: 'max_pool2d', reads: [this.act(x)], writes: [this.act(y)], inPlace: [], args: { ...common, dilationH: dilation[0], dilationW: dilation[1] } }, node);
    } else {
      this.push({
        kernel: 'avg_pool2d', reads: [this.act(x)], writes: [this.act(y)], inPlace: [],
        args: { ...common, countIncludePad: node.attrs.countIncludePad, divisorOverride: node.attrs.divisorOverride ?? 0 }
      }, node);
    }
  }
}
