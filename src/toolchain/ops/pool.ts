// max_pool2d, avg_pool2d and adaptive_avg_pool2d over NHWC images (a 1x1 adaptive pool is a mean).

import { AdaptiveAvgPoolNode, AvgPoolNode, MaxPoolNode } from '../build/ir';
import { AdaptiveAvgPoolStep, AvgPoolStep, MaxPoolStep, Shape4 } from '../build/schedule';
import { activationBounds } from '../build/quantize/params';
import { act, shape4 } from './cText';
import { clampValue, convOutputSize, imageOpToNHWC, toShape4 } from './common';
import { Int8Context, KernelModule, OpModule, OpRule, SelectContext } from './opModule';

function selectPool(node: MaxPoolNode | AvgPoolNode, s: SelectContext): void {
  const [x] = node.inputs;
  const [y] = node.outputs;
  const is = toShape4(s.tensor(x).shape);
  const { kernel, stride, padding, ceilMode, activation } = node.attrs;
  const dilation = node.op === 'max_pool2d' ? node.attrs.dilation : [1, 1];
  const size = (i: number, k: number, st: number, b: number, e: number, d: number) =>
    [convOutputSize(i, k, st, b, e, d, false), convOutputSize(i, k, st, b, e, d, ceilMode)];
  const hs = size(is.h, kernel[0], stride[0], padding[0], padding[2], dilation[0]);
  const wsz = size(is.w, kernel[1], stride[1], padding[1], padding[3], dilation[1]);
  const os = toShape4(s.tensor(y).shape);
  if (os.n !== is.n || os.c !== is.c || !hs.includes(os.h) || !wsz.includes(os.w)) {
    s.expect(node, 'output', s.tensor(y).shape, [is.n, hs[1], wsz[1], is.c]);
  }
  const common = {
    x, y, is, os, kh: kernel[0], kw: kernel[1], strideH: stride[0], strideW: stride[1],
    padTop: padding[0], padLeft: padding[1], padBottom: padding[2], padRight: padding[3], act: activation
  };
  if (node.op === 'max_pool2d') {
    s.push({ kernel: 'max_pool2d', reads: [s.act(x)], writes: [s.act(y)], inPlace: [], args: { ...common, dilationH: dilation[0], dilationW: dilation[1] } }, node);
  } else {
    s.push({
      kernel: 'avg_pool2d', reads: [s.act(x)], writes: [s.act(y)], inPlace: [],
      args: { ...common, countIncludePad: node.attrs.countIncludePad, divisorOverride: node.attrs.divisorOverride ?? 0 }
    }, node);
  }
}

const maxPool: OpRule<MaxPoolNode> = {
  kernels: ['max_pool2d'],
  toIr(_node, a, base) {
    const kernel = a.pair('kernel');
    return {
      ...base, op: 'max_pool2d',
      attrs: {
        kernel, stride: a.pair('stride', kernel), padding: a.padding('padding'), dilation: a.pair('dilation', [1, 1]),
        ceilMode: a.bool('ceil_mode', false), activation: a.activation()
      }
    };
  },
  toNHWC: imageOpToNHWC,
  select: selectPool
};

const avgPool: OpRule<AvgPoolNode> = {
  kernels: ['avg_pool2d'],
  toIr(_node, a, base) {
    const kernel = a.pair('kernel');
    const divisor = a.optionalNumber('divisor_override');
    return {
      ...base, op: 'avg_pool2d',
      attrs: {
        kernel, stride: a.pair('stride', kernel), padding: a.padding('padding'), ceilMode: a.bool('ceil_mode', false),
        countIncludePad: a.bool('count_include_pad', true), divisorOverride: divisor, activation: a.activation()
      }
    };
  },
  toNHWC: imageOpToNHWC,
  select: selectPool
};

const adaptiveAvgPool: OpRule<AdaptiveAvgPoolNode> = {
  kernels: ['adaptive_avg_pool2d', 'mean'],
  toIr: (_node, a, base) => ({ ...base, op: 'adaptive_avg_pool2d', attrs: { outputSize: a.pair('output_size') } }),
  toNHWC: imageOpToNHWC,
  select(node, s) {
    const [x] = node.inputs;
    const [y] = node.outputs;
    const is = toShape4(s.tensor(x).shape);
    const os = toShape4(s.tensor(y).shape);
    s.expect(node, 'output', s.tensor(y).shape, [is.n, node.attrs.outputSize[0], node.attrs.outputSize[1], is.c]);
    if (os.h === 1 && os.w === 1) {
      return s.push({ kernel: 'mean', reads: [s.act(x)], writes: [s.act(y)], inPlace: [], args: { x, y, outer: is.n, reduce: is.h * is.w, inner: is.c } }, node);
    }
    s.push({ kernel: 'adaptive_avg_pool2d', reads: [s.act(x)], writes: [s.act(y)], inPlace: [], args: { x, y, is, os } }, node);
  }
};

/** The reference pool, NHWC. */
function pool(x: Float32Array, is: Shape4, os: Shape4, a: {
  kh: number; kw: number; strideH: number; strideW: number; padTop: number; padLeft: number; padBottom: number; padRight: number;
  act: { min: number; max: number };
}, max: boolean, dil: [number, number], countIncludePad = false, divisorOverride = 0): Float32Array {
  const y = new Float32Array(os.n * os.h * os.w * os.c);
  for (let b = 0; b < os.n; b++) for (let oy = 0; oy < os.h; oy++) for (let ox = 0; ox < os.w; ox++) {
    const y0 = oy * a.strideH - a.padTop;
    const x0 = ox * a.strideW - a.padLeft;
    const py1 = Math.min(y0 + a.kh, is.h + a.padBottom);
    const px1 = Math.min(x0 + a.kw, is.w + a.padRight);
    for (let c = 0; c < os.c; c++) {
      let acc = max ? -Infinity : 0;
      let n = 0;
      for (let ky = 0; ky < a.kh; ky++) {
        const iy = y0 + ky * dil[0];
        if (iy < 0 || iy >= is.h) continue;
        for (let kx = 0; kx < a.kw; kx++) {
          const ix = x0 + kx * dil[1];
          if (ix < 0 || ix >= is.w) continue;
          const v = x[((b * is.h + iy) * is.w + ix) * is.c + c];
          if (max) acc = Math.max(acc, v); else { acc += v; n++; }
        }
      }
      if (!max) acc /= divisorOverride || (countIncludePad ? (py1 - y0) * (px1 - x0) : n) || 1;
      y[((b * os.h + oy) * os.w + ox) * os.c + c] = clampValue(acc, a.act.min, a.act.max);
    }
  }
  return y;
}

/**
 * int8 pools keep the input's parameters (with given quantization only when the model's
 * input and output share them). TFLite averages the raw codes: a zero point of 0 gives its
 * rounding exactly.
 */
function lowerPool(step: MaxPoolStep | AvgPoolStep, q: Int8Context): void {
  const s = step.args;
  if (q.given && !q.sameGivenParams(s.x, s.y)) return q.fallback(step);
  const x = q.as(s.x, 's8', step.from);
  const p = q.paramsOf(x);
  const averageZp = q.given ? 0 : p.zp;
  const [lo, hi] = activationBounds(s.act.min, s.act.max, p);
  const common = `${s.kh}, ${s.kw}, ${s.strideH}, ${s.strideW}, ${s.padTop}, ${s.padLeft}`;
  q.outputS8(s.y, p, y => {
    if (step.kernel === 'max_pool2d') {
      const m = step.args;
      q.push({
        kernel: 'max_pool2d_s8', from: step.from, op: step.op, reads: [x], writes: [y], inPlace: [],
        call: ptr => `es_max_pool2d_s8(${ptr.read(x)}, ${shape4(s.is)}, ${ptr.write(y)}, ${shape4(s.os)}, ${common}, ${m.dilationH}, ${m.dilationW}, ${lo}, ${hi})`
      });
    } else {
      const v = step.args;
      q.push({
        kernel: 'avg_pool2d_s8', from: step.from, op: step.op, reads: [x], writes: [y], inPlace: [],
        call: ptr => `es_avg_pool2d_s8(${ptr.read(x)}, ${shape4(s.is)}, ${ptr.write(y)}, ${shape4(s.os)}, ${common}, ${v.padBottom}, ${v.padRight}, ${v.countIncludePad ? 1 : 0}, ${v.divisorOverride}, ${averageZp}, ${lo}, ${hi})`
      });
    }
  }, step.from);
}

const maxPoolKernel: KernelModule<MaxPoolStep> = {
  call: (step, p, fn) => {
    const a = step.args;
    return `${fn}(${p.read(a.x)}, ${shape4(a.is)}, ${p.write(a.y)}, ${shape4(a.os)},\n      ${a.kh}, ${a.kw}, ${a.strideH}, ${a.strideW}, ${a.padTop}, ${a.padLeft}, ${a.padBottom}, ${a.padRight}, ${a.dilationH}, ${a.dilationW}, ${act(a.act)})`;
  },
  int8: lowerPool,
  reference: (step, get) => { const a = step.args; return [pool(get(a.x), a.is, a.os, a, true, [a.dilationH, a.dilationW])]; }
};

const avgPoolKernel: KernelModule<AvgPoolStep> = {
  call: (step, p, fn) => {
    const a = step.args;
    return `${fn}(${p.read(a.x)}, ${shape4(a.is)}, ${p.write(a.y)}, ${shape4(a.os)},\n      ${a.kh}, ${a.kw}, ${a.strideH}, ${a.strideW}, ${a.padTop}, ${a.padLeft}, ${a.padBottom}, ${a.padRight}, ${a.countIncludePad ? 1 : 0}, ${a.divisorOverride}, ${act(a.act)})`;
  },
  int8: lowerPool,
  reference: (step, get) => { const a = step.args; return [pool(get(a.x), a.is, a.os, a, false, [1, 1], a.countIncludePad, a.divisorOverride)]; }
};

const adaptiveAvgPoolKernel: KernelModule<AdaptiveAvgPoolStep> = {
  call: (step, p, fn) => {
    const a = step.args;
    return `${fn}(${p.read(a.x)}, ${shape4(a.is)}, ${p.write(a.y)}, ${shape4(a.os)})`;
  },
  reference(step, get) {
    const { is, os } = step.args;
    const x = get(step.args.x);
    const y = new Float32Array(os.n * os.h * os.w * os.c);
    for (let b = 0; b < os.n; b++) for (let oy = 0; oy < os.h; oy++) for (let ox = 0; ox < os.w; ox++) {
      const y0 = Math.floor((oy * is.h) / os.h), y1 = Math.ceil(((oy + 1) * is.h) / os.h);
      const x0 = Math.floor((ox * is.w) / os.w), x1 = Math.ceil(((ox + 1) * is.w) / os.w);
      for (let c = 0; c < os.c; c++) {
        let acc = 0;
        for (let iy = y0; iy < y1; iy++) for (let ix = x0; ix < x1; ix++) acc += x[((b * is.h + iy) * is.w + ix) * is.c + c];
        y[((b * os.h + oy) * os.w + ox) * os.c + c] = acc / ((y1 - y0) * (x1 - x0));
      }
    }
    return [y];
  }
};

export const poolModule: OpModule = {
  ops: { max_pool2d: maxPool, avg_pool2d: avgPool, adaptive_avg_pool2d: adaptiveAvgPool },
  kernels: { max_pool2d: maxPoolKernel, avg_pool2d: avgPoolKernel, adaptive_avg_pool2d: adaptiveAvgPoolKernel }
};
