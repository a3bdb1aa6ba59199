// conv2d: general, depthwise, and 1x1 stride-1 (as a GEMM, kernel of ops/gemm.ts).

import { EdgespecError } from '../errors';
import { Conv2dNode } from '../build/ir';
import { convWeightDims, packConv, packDepthwise, packPointwise } from '../build/packWeights';
import { Conv2dStep, DepthwiseStep, Shape4 } from '../build/schedule';
import { formatShape } from '../build/shape';
import { act, shape4 } from './cText';
import { clampValue, convOutputSize, imageOpToNHWC, toShape4 } from './common';
import { NotSupported, OpModule, OpRule, KernelModule } from './opModule';
import { lowerPerChannel } from './perChannelInt8';

const conv2d: OpRule<Conv2dNode> = {
  kernels: ['conv2d', 'conv2d_depthwise', 'gemm'],
  toIr: (node, a, base) => ({
    ...base, op: 'conv2d',
    attrs: {
      stride: a.pair('stride', [1, 1]), padding: a.padding('padding'), dilation: a.pair('dilation', [1, 1]),
      groups: a.int('groups', 1), weightLayout: a.oneOf('weight_layout', ['OIHW', 'OHWI', '1HWO'] as const, 'OIHW'),
      activation: a.activation()
    }
  }),
  toNHWC: imageOpToNHWC,
  select(node, s) {
    const [x, wName, bName] = node.inputs;
    const [y] = node.outputs;
    if (!s.isWeight(wName)) throw new NotSupported('the convolution weight is computed at run time; only constant weights are supported');
    const xs = s.tensor(x).shape;
    const ws = s.tensor(s.source(wName)).shape;
    const { stride, padding, dilation, groups, weightLayout, activation } = node.attrs;
    const { o: oc, kh, kw, i: icPerGroup } = convWeightDims(ws, weightLayout);
    const is = toShape4(xs);
    if (icPerGroup * groups !== is.c || oc % groups !== 0) {
      throw new EdgespecError('bad-graph', `conv2d ${node.name} (${node.module}): weight ${formatShape(ws)} with groups ${groups} does not fit an input with ${is.c} channels`, 'capture the model again; graph.json is inconsistent');
    }
    const oh = convOutputSize(is.h, kh, stride[0], padding[0], padding[2], dilation[0], false);
    const ow = convOutputSize(is.w, kw, stride[1], padding[1], padding[3], dilation[1], false);
    s.expect(node, 'output', s.tensor(y).shape, [is.n, oh, ow, oc]);
    const os = toShape4(s.tensor(y).shape);
    const b = bName === undefined ? null : s.weight(bName);
    const reads = (w: string) => [s.act(x), w, ...(b ? [b] : [])];
    const pointwise = weightLayout !== '1HWO' && groups === 1 && kh === 1 && kw === 1 && stride[0] === 1 && stride[1] === 1 && padding.every(p => p === 0);
    if (pointwise) {
      const w = s.weight(wName, 'gemm', t => packPointwise(t.data!, t.shape));
      s.push({ kernel: 'gemm', reads: reads(w), writes: [s.act(y)], inPlace: [], args: { a: x, w, b, y, m: is.n * is.h * is.w, k: is.c, n: oc, act: activation } }, node);
      return;
    }
    const common = {
      x, b, y, is, os, kh, kw, strideH: stride[0], strideW: stride[1], padTop: padding[0], padLeft: padding[1],
      dilationH: dilation[0], dilationW: dilation[1], act: activation
    };
    if (groups === is.c && oc === is.c && icPerGroup === 1) {
      const w = s.weight(wName, 'depthwise', t => packDepthwise(t.data!, t.shape, weightLayout));
      s.push({ kernel: 'conv2d_depthwise', reads: reads(w), writes: [s.act(y)], inPlace: [], args: { ...common, w } }, node);
      return;
    }
    const w = s.weight(wName, weightLayout === 'OHWI' ? 'as-is' : 'conv', t => packConv(t.data!, t.shape, weightLayout));
    s.push({ kernel: 'conv2d', reads: reads(w), writes: [s.act(y)], inPlace: [], args: { ...common, w, groups } }, node);
  }
};

/** The reference convolution, on the packed layouts: [OC][KH][KW][IC/g], or [KH][KW][C] for depthwise. */
function convolve(x: Float32Array, is: Shape4, w: Float32Array, bias: Float32Array | null, os: Shape4, a: {
  kh: number; kw: number; strideH: number; strideW: number; padTop: number; padLeft: number; dilationH: number; dilationW: number;
  act: { min: number; max: number };
}, groups: number, depthwise: boolean): Float32Array {
  const y = new Float32Array(os.n * os.h * os.w * os.c);
  const icg = is.c / groups;
  const ocg = os.c / groups;
  for (let b = 0; b < os.n; b++) {
    for (let oy = 0; oy < os.h; oy++) {
      for (let ox = 0; ox < os.w; ox++) {
        const base = ((b * os.h + oy) * os.w + ox) * os.c;
        for (let oc = 0; oc < os.c; oc++) {
          let acc = bias ? bias[oc] : 0;
          const g = Math.floor(oc / ocg);
          for (let ky = 0; ky < a.kh; ky++) {
            const iy = oy * a.strideH - a.padTop + ky * a.dilationH;
            if (iy < 0 || iy >= is.h) continue;
            for (let kx = 0; kx < a.kw; kx++) {
              const ix = ox * a.strideW - a.padLeft + kx * a.dilationW;
              if (ix < 0 || ix >= is.w) continue;
              const xi = ((b * is.h + iy) * is.w + ix) * is.c;
              if (depthwise) {
                acc += x[xi + oc] * w[(ky * a.kw + kx) * os.c + oc];
              } else {
                const wi = ((oc * a.kh + ky) * a.kw + kx) * icg;
                const xg = xi + g * icg;
                for (let c = 0; c < icg; c++) acc += x[xg + c] * w[wi + c];
              }
            }
          }
          y[base + oc] = clampValue(acc, a.act.min, a.act.max);
        }
      }
    }
  }
  return y;
}

const conv2dKernel: KernelModule<Conv2dStep> = {
  call: (step, p, fn) => {
    const a = step.args;
    return `${fn}(${p.read(a.x)}, ${shape4(a.is)}, ${p.read(a.w)}, ${p.optional(a.b)},\n      ${p.write(a.y)}, ${shape4(a.os)}, ${a.kh}, ${a.kw}, ${a.strideH}, ${a.strideW}, ${a.padTop}, ${a.padLeft}, ${a.dilationH}, ${a.dilationW}, ${a.groups}, ${act(a.act)})`;
  },
  int8: lowerPerChannel,
  reference: (step, get, w) => { const a = step.args; return [convolve(get(a.x), a.is, w(a.w)!, w(a.b), a.os, a, a.groups, false)]; }
};

const depthwiseKernel: KernelModule<DepthwiseStep> = {
  call: (step, p, fn) => {
    const a = step.args;
    return `${fn}(${p.read(a.x)}, ${shape4(a.is)}, ${p.read(a.w)}, ${p.optional(a.b)},\n      ${p.write(a.y)}, ${shape4(a.os)}, ${a.kh}, ${a.kw}, ${a.strideH}, ${a.strideW}, ${a.padTop}, ${a.padLeft}, ${a.dilationH}, ${a.dilationW}, ${act(a.act)})`;
  },
  int8: lowerPerChannel,
  reference: (step, get, w) => { const a = step.args; return [convolve(get(a.x), a.is, w(a.w)!, w(a.b), a.os, a, a.is.c, true)]; }
};

export const conv2dModule: OpModule = {
  ops: { conv2d },
  kernels: { conv2d: conv2dKernel, conv2d_depthwise: depthwiseKernel }
};
