// conv_transpose2d over NHWC images: each output pixel gathers the input pixels whose
// stride-spread windows cover it (no scatter, so the output needs no zeroing pass).

import { EdgespecError } from '../errors';
import { ConvTranspose2dNode } from '../build/ir';
import { Packed } from '../build/packWeights';
import { ConvTranspose2dStep } from '../build/schedule';
import { formatShape, transposeData } from '../build/shape';
import { act, shape4 } from './cText';
import { clampValue, imageOpToNHWC, toShape4 } from './common';
import { KernelModule, NotSupported, OpModule, OpRule } from './opModule';

/** (I, O, KH, KW) of a transposed-convolution weight: O counts every output channel. */
function transposedWeightDims(shape: number[], layout: 'IOHW' | 'OHWI', groups: number) {
  return layout === 'IOHW'
    ? { i: shape[0], o: shape[1] * groups, kh: shape[2], kw: shape[3] }
    : { o: shape[0], kh: shape[1], kw: shape[2], i: shape[3] * groups };
}

/** The weight as [O][KH][KW][I/groups], the layout es_conv_transpose2d_f32 reads. */
function packTransposed(data: Float32Array, shape: number[], layout: 'IOHW' | 'OHWI', groups: number): Packed {
  if (layout === 'OHWI') return { shape: [...shape], data, packing: 'OHWI as is' };
  const [inChannels, opg, kh, kw] = shape;
  const ipg = inChannels / groups;
  // [I][O/g][KH][KW] = [g][I/g][O/g][KH][KW] -> [g][O/g][KH][KW][I/g]
  const packed = transposeData(data, [groups, ipg, opg, kh, kw], [0, 2, 3, 4, 1]);
  return { shape: [opg * groups, kh, kw, ipg], data: packed, packing: 'IOHW→[OC][KH][KW][IC/groups]' };
}

/** Output size along one axis: (in - 1) * stride - before - after + dilation * (k - 1) + outputPadding + 1. */
function transposedOutputSize(size: number, k: number, stride: number, before: number, after: number, dilation: number, extra: number): number {
  return (size - 1) * stride - before - after + dilation * (k - 1) + extra + 1;
}

const convTranspose2d: OpRule<ConvTranspose2dNode> = {
  kernels: ['conv_transpose2d'],
  toIr: (_node, a, base) => ({
    ...base, op: 'conv_transpose2d',
    attrs: {
      stride: a.pair('stride', [1, 1]), padding: a.padding('padding'), outputPadding: a.pair('output_padding', [0, 0]),
      dilation: a.pair('dilation', [1, 1]), groups: a.int('groups', 1),
      weightLayout: a.oneOf('weight_layout', ['IOHW', 'OHWI'] as const, 'IOHW'), activation: a.activation()
    }
  }),
  toNHWC: imageOpToNHWC,
  select(node, s) {
    const [x, wName, bName] = node.inputs;
    const [y] = node.outputs;
    if (!s.isWeight(wName)) throw new NotSupported('the transposed convolution weight is computed at run time; only constant weights are supported');
    const { stride, padding, outputPadding, dilation, groups, weightLayout, activation } = node.attrs;
    const ws = s.tensor(s.source(wName)).shape;
    const { i, o, kh, kw } = transposedWeightDims(ws, weightLayout, groups);
    const is = toShape4(s.tensor(x).shape);
    if (i !== is.c || i % groups !== 0 || o % groups !== 0) {
      throw new EdgespecError('bad-graph', `conv_transpose2d ${node.name} (${node.module}): weight ${formatShape(ws)} with groups ${groups} does not fit an input with ${is.c} channels`, 'capture the model again; graph.json is inconsistent');
    }
    const oh = transposedOutputSize(is.h, kh, stride[0], padding[0], padding[2], dilation[0], outputPadding[0]);
    const ow = transposedOutputSize(is.w, kw, stride[1], padding[1], padding[3], dilation[1], outputPadding[1]);
    s.expect(node, 'output', s.tensor(y).shape, [is.n, oh, ow, o]);
    const w = s.weight(wName, 'conv_transpose', t => packTransposed(t.data!, t.shape, weightLayout, groups));
    const b = bName === undefined ? null : s.weight(bName);
    s.push({
      kernel: 'conv_transpose2d', reads: [s.act(x), w, ...(b ? [b] : [])], writes: [s.act(y)], inPlace: [],
      args: {
        x, w, b, y, is, os: toShape4(s.tensor(y).shape), kh, kw, strideH: stride[0], strideW: stride[1],
        padTop: padding[0], padLeft: padding[1], dilationH: dilation[0], dilationW: dilation[1], groups, act: activation
      }
    }, node);
  }
};

/** The reference, on the packed [OC][KH][KW][IC/g] weight. */
function convolveTransposed(x: Float32Array, w: Float32Array, bias: Float32Array | null, a: ConvTranspose2dStep['args']): Float32Array {
  const { is, os } = a;
  const y = new Float32Array(os.n * os.h * os.w * os.c);
  const icg = is.c / a.groups;
  const ocg = os.c / a.groups;
  for (let n = 0; n < os.n; n++) for (let oy = 0; oy < os.h; oy++) for (let ox = 0; ox < os.w; ox++) {
    for (let oc = 0; oc < os.c; oc++) {
      const g = Math.floor(oc / ocg);
      let acc = bias ? bias[oc] : 0;
      for (let ky = 0; ky < a.kh; ky++) {
        const ty = oy + a.padTop - ky * a.dilationH;
        if (ty < 0 || ty % a.strideH !== 0 || ty / a.strideH >= is.h) continue;
        for (let kx = 0; kx < a.kw; kx++) {
          const tx = ox + a.padLeft - kx * a.dilationW;
          if (tx < 0 || tx % a.strideW !== 0 || tx / a.strideW >= is.w) continue;
          const xi = ((n * is.h + ty / a.strideH) * is.w + tx / a.strideW) * is.c + g * icg;
          const wi = ((oc * a.kh + ky) * a.kw + kx) * icg;
          for (let c = 0; c < icg; c++) acc += x[xi + c] * w[wi + c];
        }
      }
      y[((n * os.h + oy) * os.w + ox) * os.c + oc] = clampValue(acc, a.act.min, a.act.max);
    }
  }
  return y;
}

const convTranspose2dKernel: KernelModule<ConvTranspose2dStep> = {
  call: (step, p, fn) => {
    const a = step.args;
    return `${fn}(${p.read(a.x)}, ${shape4(a.is)}, ${p.read(a.w)}, ${p.optional(a.b)},\n      ${p.write(a.y)}, ${shape4(a.os)}, ${a.kh}, ${a.kw}, ${a.strideH}, ${a.strideW}, ${a.padTop}, ${a.padLeft}, ${a.dilationH}, ${a.dilationW}, ${a.groups}, ${act(a.act)})`;
  },
  reference: (step, get, w) => [convolveTransposed(get(step.args.x), w(step.args.w)!, w(step.args.b), step.args)]
};

export const convTransposeModule: OpModule = {
  ops: { conv_transpose2d: convTranspose2d },
  kernels: { conv_transpose2d: convTranspose2dKernel }
};
