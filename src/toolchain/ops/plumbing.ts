// slice, expand, tile (one strided-copy kernel: every output element read at
// offset + sum i_d * stride_d of the input), gather with constant indices, and where with a
// constant condition (three operands read through broadcast strides).

import { ExpandNode, GatherNode, SliceNode, TileNode, WhereNode } from '../build/ir';
import { GatherStep, StridedCopyStep, WhereStep } from '../build/schedule';
import { formatShape, numel } from '../build/shape';
import { ints } from './cText';
import { copiesAsCodes, lowerCodeCopy, MAX_STRIDED_RANK, rowMajorStrides, simplifyWalk as simplify } from './codeCopyInt8';
import { Int8Context, KernelModule, LayoutContext, NotSupported, OpModule, OpRule, SelectContext } from './opModule';

/** One strided-copy step, or a plain copy when the walk is the input's own order. */
function pushStridedCopy(node: SliceNode | ExpandNode | TileNode, s: SelectContext, walk: number[], strides: number[], offset: number): void {
  const [x] = node.inputs;
  const [y] = node.outputs;
  const v = simplify(walk, strides);
  // a constant input (ViT's class token expanded) is read from the weights: the result is an activation
  const source = s.operand(x);
  if (v.shape.length === 1 && v.strides[0] === 1 && offset === 0) {
    return s.push({ kernel: 'copy', reads: [source], writes: [s.act(y)], inPlace: [], args: { x: source, y, count: v.shape[0] } }, node);
  }
  if (v.shape.length > MAX_STRIDED_RANK) throw new NotSupported(`${node.op} walks ${v.shape.length} dims (the kernel handles up to ${MAX_STRIDED_RANK})`);
  s.push({ kernel: 'strided_copy', reads: [source], writes: [s.act(y)], inPlace: [], args: { x: source, y, shape: v.shape, strides: v.strides, offset } }, node);
}

/** Ops whose per-axis attributes follow the data: a 4-D input keeps the agnostic layout, its attributes permuted to memory order. */
function perAxisToNHWC<N extends SliceNode | TileNode | ExpandNode>(permute: (node: N, order: number[]) => void) {
  return (node: N, r: LayoutContext): void => {
    const x = node.inputs[0];
    const y = node.outputs[0];
    if (!r.is4d(x) || r.tensor(y).shape.length !== 4) {
      if (r.is4d(x)) node.inputs[0] = r.inOriginalOrder(x, node.module);
      return;
    }
    const layout = r.agnosticLayout([x]);
    node.inputs[0] = r.want(x, layout, node.module);
    permute(node, r.memoryOrder(x, layout));
    r.produce(y, layout);
  };
}

const slice: OpRule<SliceNode> = {
  kernels: ['strided_copy', 'copy'],
  toIr: (_node, a, base) => ({ ...base, op: 'slice', attrs: { starts: a.ints('starts'), sizes: a.ints('sizes'), steps: a.ints('steps') } }),
  toNHWC: perAxisToNHWC<SliceNode>((node, order) => {
    const { starts, sizes, steps } = node.attrs;
    node.attrs = { starts: order.map(d => starts[d]), sizes: order.map(d => sizes[d]), steps: order.map(d => steps[d]) };
  }),
  select(node, s) {
    const inShape = s.tensor(node.inputs[0]).shape;
    const outShape = s.tensor(node.outputs[0]).shape;
    const { starts, steps } = node.attrs;
    s.expect(node, 'output', outShape, node.attrs.sizes);
    inShape.forEach((size, d) => {
      const last = starts[d] + (outShape[d] - 1) * steps[d];
      if (outShape[d] > 0 && (starts[d] < 0 || starts[d] >= size || last < 0 || last >= size || steps[d] === 0)) {
        throw new NotSupported(`slice of ${formatShape(inShape)} from ${starts[d]} by ${steps[d]} for ${outShape[d]} leaves axis ${d}`);
      }
    });
    const st = rowMajorStrides(inShape);
    pushStridedCopy(node, s, outShape, st.map((v, d) => v * steps[d]), starts.reduce((p, start, d) => p + start * st[d], 0));
  }
};

const expand: OpRule<ExpandNode> = {
  kernels: ['strided_copy', 'copy'],
  toIr: (_node, a, base) => ({ ...base, op: 'expand', attrs: { shape: a.ints('shape') } }),
  toNHWC: perAxisToNHWC<ExpandNode>((node, order) => { node.attrs = { shape: order.map(d => node.attrs.shape[d]) }; }),
  select(node, s) {
    const inShape = s.tensor(node.inputs[0]).shape;
    const outShape = s.tensor(node.outputs[0]).shape;
    const lead = outShape.length - inShape.length;
    const st = rowMajorStrides(inShape);
    const strides = outShape.map((size, d) => {
      const k = d - lead;
      if (k < 0) return 0;
      if (inShape[k] !== size && inShape[k] !== 1) throw new NotSupported(`expand of ${formatShape(inShape)} to ${formatShape(outShape)}`);
      return inShape[k] === 1 ? 0 : st[k];
    });
    pushStridedCopy(node, s, outShape, strides, 0);
  }
};

const tile: OpRule<TileNode> = {
  kernels: ['strided_copy', 'copy'],
  toIr: (_node, a, base) => ({ ...base, op: 'tile', attrs: { repeats: a.ints('repeats') } }),
  toNHWC: perAxisToNHWC<TileNode>((node, order) => { node.attrs = { repeats: order.map(d => node.attrs.repeats[d]) }; }),
  /** y = x repeated along each axis: walks [r0, d0, r1, d1, ...] with stride 0 over each repeat. */
  select(node, s) {
    const inShape = s.tensor(node.inputs[0]).shape;
    const { repeats } = node.attrs;
    s.expect(node, 'output', s.tensor(node.outputs[0]).shape, inShape.map((d, k) => d * repeats[k]));
    const st = rowMajorStrides(inShape);
    pushStridedCopy(node, s, inShape.flatMap((d, k) => [repeats[k], d]), st.flatMap(v => [0, v]), 0);
  }
};

const gather: OpRule<GatherNode> = {
  kernels: ['gather'],
  toIr: (_node, a, base) => ({ ...base, op: 'gather', attrs: { axis: a.int('axis'), indices: a.ints('indices') } }),
  toNHWC(node, r) {
    const x = node.inputs[0];
    if (!r.is4d(x) || r.tensor(node.outputs[0]).shape.length !== 4) {
      if (r.is4d(x)) node.inputs[0] = r.inOriginalOrder(x, node.module);
      return;
    }
    const layout = r.agnosticLayout([x]);
    node.inputs[0] = r.want(x, layout, node.module);
    node.attrs = { ...node.attrs, axis: r.memoryAxis(x, node.attrs.axis, layout) };
    r.produce(node.outputs[0], layout);
  },
  select(node, s) {
    const [x] = node.inputs;
    const [y] = node.outputs;
    const shape = s.tensor(x).shape;
    const a = node.attrs.axis;
    const indices = node.attrs.indices.map(i => (i < 0 ? i + shape[a] : i));
    if (indices.some(i => i < 0 || i >= shape[a])) throw new NotSupported(`gather index out of [0, ${shape[a]})`);
    s.push({
      kernel: 'gather', reads: [s.act(x)], writes: [s.act(y)], inPlace: [],
      args: { x, y, outer: numel(shape.slice(0, a)), axis: shape[a], inner: numel(shape.slice(a + 1)), indices }
    }, node);
  }
};

/** Element strides of `shape` broadcast (NumPy rules) against `outShape`: 0 along broadcast dims. */
function broadcastStridesTo(shape: number[], outShape: number[]): number[] {
  const lead = outShape.length - shape.length;
  const st = rowMajorStrides(shape);
  return outShape.map((_, d) => (d < lead || shape[d - lead] === 1 ? 0 : st[d - lead]));
}

const where: OpRule<WhereNode> = {
  kernels: ['where'],
  toIr: (_node, _a, base) => ({ ...base, op: 'where', attrs: {} }),
  toNHWC(node, r) {
    const y = node.outputs[0];
    if (r.tensor(y).shape.length !== 4) {
      node.inputs = node.inputs.map(t => (r.is4d(t) ? r.inOriginalOrder(t, node.module) : t));
      return;
    }
    const operands = node.inputs.map(t => r.expandTo4d(t, r.originalLayout(y), node.module));
    const activations = operands.filter(t => r.tensor(t).role !== 'weight');
    const layout = r.agnosticLayout(activations.length > 0 ? activations : operands);
    node.inputs = operands.map(t => r.want(t, layout, node.module));
    r.produce(y, layout);
  },
  select(node, s) {
    const [cond, x, other] = node.inputs;
    const [y] = node.outputs;
    if (!s.isWeight(cond)) throw new NotSupported('where with a condition the model computes (only a constant one)');
    const outShape = s.tensor(y).shape;
    if (outShape.length > MAX_STRIDED_RANK) throw new NotSupported(`where on a ${outShape.length}-D tensor (up to ${MAX_STRIDED_RANK} dims)`);
    const shapeOf = (t: string) => s.tensor(s.source(t)).shape;
    const [c, a, b] = [s.weight(cond), s.operand(x), s.operand(other)];
    s.push({
      kernel: 'where', reads: [c, a, b], writes: [s.act(y)], inPlace: [],
      args: {
        cond: c, x: a, other: b, y, shape: outShape.length ? outShape : [1],
        condStrides: broadcastStridesTo(shapeOf(cond), outShape), xStrides: broadcastStridesTo(shapeOf(x), outShape),
        otherStrides: broadcastStridesTo(shapeOf(other), outShape)
      }
    }, node);
  }
};

const whereKernel: KernelModule<WhereStep> = {
  call: (step, p, fn) => {
    const a = step.args;
    return `${fn}(${p.read(a.cond)}, ${p.read(a.x)}, ${p.read(a.other)}, ${p.write(a.y)}, ${a.shape.length}, ${ints(a.shape)},\n      ${ints(a.condStrides.length ? a.condStrides : [0])}, ${ints(a.xStrides.length ? a.xStrides : [0])}, ${ints(a.otherStrides.length ? a.otherStrides : [0])})`;
  },
  reference(step, get, weight) {
    const a = step.args;
    const c = weight(a.cond)!, x = weight(a.x) ?? get(a.x), o = weight(a.other) ?? get(a.other);
    const read = (v: Float32Array, strides: number[]) => (k: number) => {
      let rest = k, at = 0;
      for (let d = a.shape.length - 1; d >= 0; d--) {
        at += (rest % a.shape[d]) * (strides[d] ?? 0);
        rest = Math.floor(rest / a.shape[d]);
      }
      return v[at];
    };
    const [rc, rx, ro] = [read(c, a.condStrides), read(x, a.xStrides), read(o, a.otherStrides)];
    return [Float32Array.from({ length: numel(a.shape) }, (_, k) => (rc(k) !== 0 ? rx(k) : ro(k)))];
  }
};

function stridedRead(x: Float32Array, a: StridedCopyStep['args']): Float32Array {
  const y = new Float32Array(numel(a.shape));
  for (let k = 0; k < y.length; k++) {
    let rest = k, at = a.offset;
    for (let d = a.shape.length - 1; d >= 0; d--) {
      at += (rest % a.shape[d]) * a.strides[d];
      rest = Math.floor(rest / a.shape[d]);
    }
    y[k] = x[at];
  }
  return y;
}

/** A copy of codes (codeCopyInt8.ts): calibrated, the output keeps the input's quantization. */
function lowerStridedCopy(step: StridedCopyStep, q: Int8Context): void {
  const a = step.args;
  if (!copiesAsCodes(q, a.x, [a.y])) return q.fallback(step); // a constant expanded
  lowerCodeCopy(q, step.from, step.op, a.x, a.y, a.shape, a.strides, a.offset);
}

const stridedCopyKernel: KernelModule<StridedCopyStep> = {
  call: (step, p, fn) => {
    const a = step.args;
    return `${fn}(${p.read(a.x)}, ${p.write(a.y)}, ${a.shape.length}, ${ints(a.shape)}, ${ints(a.strides)}, ${a.offset})`;
  },
  int8: lowerStridedCopy,
  reference: (step, get) => [stridedRead(get(step.args.x), step.args)]
};

/** int8 gather: rows of codes copied, the output at the input's parameters. */
function lowerGather(step: GatherStep, q: Int8Context): void {
  const a = step.args;
  if (q.given && !q.sameGivenParams(a.x, a.y)) return q.fallback(step);
  const x = q.as(a.x, 's8', step.from);
  const p = q.paramsOf(x);
  q.outputS8(a.y, p, y => q.push({
    kernel: 'gather_s8', from: step.from, op: step.op, reads: [x], writes: [y], inPlace: [],
    call: ptr => `es_gather_s8(${ptr.read(x)}, ${ptr.write(y)}, ${a.outer}, ${a.axis}, ${a.inner}, ${ints(a.indices)}, ${a.indices.length})`
  }), step.from);
}

const gatherKernel: KernelModule<GatherStep> = {
  call: (step, p, fn) => {
    const a = step.args;
    return `${fn}(${p.read(a.x)}, ${p.write(a.y)}, ${a.outer}, ${a.axis}, ${a.inner}, ${ints(a.indices)}, ${a.indices.length})`;
  },
  int8: lowerGather,
  reference(step, get) {
    const a = step.args;
    const x = get(a.x);
    const y = new Float32Array(a.outer * a.indices.length * a.inner);
    for (let o = 0; o < a.outer; o++) a.indices.forEach((index, k) => {
      y.set(x.subarray((o * a.axis + index) * a.inner, (o * a.axis + index + 1) * a.inner), (o * a.indices.length + k) * a.inner);
    });
    return [y];
  }
};

export const plumbingModule: OpModule = {
  ops: { slice, expand, tile, gather, where },
  kernels: { strided_copy: stridedCopyKernel, gather: gatherKernel, where: whereKernel }
};
