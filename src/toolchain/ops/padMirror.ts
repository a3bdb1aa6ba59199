// pad with mode reflect, edge or symmetric: each output index reads the input index it mirrors
// or clamps to (the pad op's rule in ops/shape.ts chooses this kernel for those modes).

import { PadNode } from '../build/ir';
import { PadMirrorStep } from '../build/schedule';
import { ints } from './cText';
import { Int8Context, KernelModule, NotSupported, OpModule, SelectContext } from './opModule';

export const PAD_MODES = ['constant', 'reflect', 'edge', 'symmetric'] as const;
const MIRROR_MODES = ['reflect', 'edge', 'symmetric'];

/** The input index output index o (before the padding: o - before) reads along a dim of size n. */
export function mirroredIndex(i: number, n: number, mode: number): number {
  if (mode === 1) return Math.min(Math.max(i, 0), n - 1);
  if (mode === 0) return i < 0 ? -i : i >= n ? 2 * (n - 1) - i : i;
  return i < 0 ? -i - 1 : i >= n ? 2 * n - 1 - i : i;
}

export function selectMirrorPad(node: PadNode, s: SelectContext, inShape: number[], pads: number[]): void {
  const mode = MIRROR_MODES.indexOf(node.attrs.mode);
  inShape.forEach((n, k) => {
    const limit = mode === 0 ? n - 1 : mode === 2 ? n : Infinity;
    if (pads[2 * k] > limit || pads[2 * k + 1] > limit) {
      throw new NotSupported(`${node.attrs.mode} padding of ${Math.max(pads[2 * k], pads[2 * k + 1])} along a dimension of ${n} (at most ${limit})`);
    }
  });
  const [x] = node.inputs;
  const [y] = node.outputs;
  s.push({ kernel: 'pad_mirror', reads: [s.act(x)], writes: [s.act(y)], inPlace: [], args: { x, inShape, pads, mode, y } }, node);
}

/** A copy of codes: int8 keeps the input's parameters (TFLite's MIRROR_PAD). */
function lowerMirror(step: PadMirrorStep, q: Int8Context): void {
  const a = step.args;
  if (q.given && !q.sameGivenParams(a.x, a.y)) return q.fallback(step);
  const x = q.as(a.x, 's8', step.from);
  q.outputS8(a.y, q.paramsOf(x), y => q.push({
    kernel: 'pad_mirror_s8', from: step.from, op: step.op, reads: [x], writes: [y], inPlace: [],
    call: ptr => `es_pad_mirror_s8(${ptr.read(x)}, ${ints(a.inShape)}, ${ints(a.pads)}, ${a.inShape.length}, ${a.mode}, ${ptr.write(y)})`
  }), step.from);
}

const padMirrorKernel: KernelModule<PadMirrorStep> = {
  call: (step, p, fn) => {
    const a = step.args;
    return `${fn}(${p.read(a.x)}, ${ints(a.inShape)}, ${ints(a.pads)}, ${a.inShape.length}, ${a.mode}, ${p.write(a.y)})`;
  },
  int8: lowerMirror,
  reference(step, get) {
    const a = step.args;
    const x = get(a.x);
    const rank = a.inShape.length;
    const outShape = a.inShape.map((d, k) => d + a.pads[2 * k] + a.pads[2 * k + 1]);
    const y = new Float32Array(outShape.reduce((p, q) => p * q, 1));
    for (let o = 0; o < y.length; o++) {
      let rest = o, src = 0, stride = 1;
      for (let d = rank - 1; d >= 0; d--) {
        const i = mirroredIndex((rest % outShape[d]) - a.pads[2 * d], a.inShape[d], a.mode);
        src += i * stride;
        rest = Math.floor(rest / outShape[d]);
        stride *= a.inShape[d];
      }
      y[o] = x[src];
    }
    return [y];
  }
};

export const padMirrorModule: OpModule = { ops: {}, kernels: { pad_mirror: padMirrorKernel } };
