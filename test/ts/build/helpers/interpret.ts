// A slow, plain reference interpreter of the build's IR, in float64, for tests. It follows
// each tensor's memory layout: conv and pools read and write NCHW or NHWC as tagged, every
// other op works on memory dims (which is what the passes promise to preserve).

import { IrGraph, IrNode, IrTensor, MemoryLayout, WeightLayout } from '../../../../src/toolchain/build/ir';
import { denseStrides, numel, permute } from '../../../../src/toolchain/build/shape';

export interface Value {
  shape: number[];
  data: Float64Array;
}

function transpose(v: Value, perm: number[]): Value {
  const outShape = permute(v.shape, perm);
  const strides = permute(denseStrides(v.shape), perm);
  const out = new Float64Array(v.data.length);
  const idx = new Array<number>(outShape.length).fill(0);
  for (let o = 0; o < out.length; o++) {
    let src = 0;
    for (let k = 0; k < idx.length; k++) src += idx[k] * strides[k];
    out[o] = v.data[src];
    for (let k = idx.length - 1; k >= 0; k--) {
      if (++idx[k] < outShape[k]) break;
      idx[k] = 0;
    }
  }
  return { shape: outShape, data: out };
}

const toNCHW = (v: Value, layout: MemoryLayout) => (layout === 'NHWC' ? transpose(v, [0, 3, 1, 2]) : v);
const fromNCHW = (v: Value, layout: MemoryLayout) => (layout === 'NHWC' ? transpose(v, [0, 2, 3, 1]) : v);

function broadcast(a: Value, b: Value, outShape: number[], f: (x: number, y: number) => number): Value {
  const r = outShape.length;
  const pad = (s: number[]) => [...new Array<number>(r - s.length).fill(1), ...s];
  const as = pad(a.shape), bs = pad(b.shape);
  const ast = denseStrides(as).map((s, i) => (as[i] === 1 ? 0 : s));
  const bst = denseStrides(bs).map((s, i) => (bs[i] === 1 ? 0 : s));
  const out = new Float64Array(numel(outShape));
  const idx = new Array<number>(r).fill(0);
  for (let o = 0; o < out.length; o++) {
    let ia = 0, ib = 0;
    for (let k = 0; k < r; k++) {
      ia += idx[k] * ast[k];
      ib += idx[k] * bst[k];
    }
    out[o] = f(a.data[ia], b.data[ib]);
    for (let k = r - 1; k >= 0; k--) {
      if (++idx[k] < outShape[k]) break;
      idx[k] = 0;
    }
  }
  return { shape: outShape, data: out };
}

const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);
const map = (v: Value, f: (x: number) => number): Value => ({ shape: v.shape, data: v.data.map(f) });

/** [outer][axis][inner] view helpers. */
function splitDims(shape: number[], from: number, to = from + 1) {
  return { outer: numel(shape.slice(0, from)), mid: numel(shape.slice(from, to)), inner: numel(shape.slice(to)) };
}

function conv2d(x: Value, w: Float64Array, wShape: number[], layout: WeightLayout, bias: Float64Array | undefined, outShape: number[], a: { stride: number[]; padding: number[]; dilation: number[]; groups: number }): Value {
  const [n, c, h, wd] = x.shape;
  const [, oc, oh, ow] = outShape;
  const [kh, kw, icg] = layout === 'OIHW' ? [wShape[2], wShape[3], wShape[1]] : layout === 'OHWI' ? [wShape[1], wShape[2], wShape[3]] : [wShape[1], wShape[2], 1];
  const ocg = oc / a.groups;
  const wAt = (o: number, i: number, y: number, z: number) =>
    layout === 'OIHW' ? w[((o * icg + i) * kh + y) * kw + z] : layout === 'OHWI' ? w[((o * kh + y) * kw + z) * icg + i] : w[(y * kw + z) * oc + o];
  const out = new Float64Array(n * oc * oh * ow);
  for (let b = 0; b < n; b++) for (let o = 0; o < oc; o++) {
    const g = Math.floor(o / ocg);
    for (let y = 0; y < oh; y++) for (let z = 0; z < ow; z++) {
      let s = bias ? bias[o] : 0;
      for (let i = 0; i < icg; i++) for (let p = 0; p < kh; p++) for (let q = 0; q < kw; q++) {
        const iy = y * a.stride[0] - a.padding[0] + p * a.dilation[0];
        const ix = z * a.stride[1] - a.padding[1] + q * a.dilation[1];
        if (iy < 0 || iy >= h || ix < 0 || ix >= wd) continue;
        s += x.data[((b * c + g * icg + i) * h + iy) * wd + ix] * wAt(o, i, p, q);
      }
      out[((b * oc + o) * oh + y) * ow + z] = s;
    }
  }
  return { shape: outShape, data: out };
}

function pool(x: Value, outShape: number[], k: number[], stride: number[], pad: number[], dilation: number[], kind: 'max' | 'avg', countIncludePad: boolean, divisorOverride: number | null): Value {
  const [n, c, h, w] = x.shape;
  const [, , oh, ow] = outShape;
  const out = new Float64Array(numel(outShape));
  for (let b = 0; b < n * c; b++) for (let y = 0; y < oh; y++) for (let z = 0; z < ow; z++) {
    let m = -Infinity, s = 0, count = 0, padded = 0;
    for (let p = 0; p < k[0]; p++) for (let q = 0; q < k[1]; q++) {
      const iy = y * stride[0] - pad[0] + p * dilation[0];
      const ix = z * stride[1] - pad[1] + q * dilation[1];
      if (iy < h + pad[2] && ix < w + pad[3]) padded++;
      if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
      const v = x.data[(b * h + iy) * w + ix];
      m = Math.max(m, v);
      s += v;
      count++;
    }
    out[(b * oh + y) * ow + z] = kind === 'max' ? m : s / (divisorOverride ?? (countIncludePad ? padded : count));
  }
  return { shape: outShape, data: out };
}

/** reflect / edge / symmetric padding: each output index reads the input index it mirrors or clamps to. */
function mirrorPad(x: Value, yShape: number[], pads: number[][], mode: string): Value {
  const source = (i: number, n: number) => (mode === 'edge' ? Math.min(Math.max(i, 0), n - 1)
    : mode === 'reflect' ? (i < 0 ? -i : i >= n ? 2 * (n - 1) - i : i)
      : (i < 0 ? -i - 1 : i >= n ? 2 * n - 1 - i : i));
  const out = new Float64Array(numel(yShape));
  const inStrides = denseStrides(x.shape);
  const outStrides = denseStrides(yShape);
  for (let o = 0; o < out.length; o++) {
    let src = 0;
    for (let k = 0; k < yShape.length; k++) src += source(Math.floor(o / outStrides[k]) % yShape[k] - (pads[k]?.[0] ?? 0), x.shape[k]) * inStrides[k];
    out[o] = x.data[src];
  }
  return { shape: yShape, data: out };
}

/** Source coordinates of each output index along one axis (ops.json resize), in float64. */
function resizeSource(out: number, size: number, ratio: number | null, coordinates: string): number[] {
  const r = ratio ?? out / size;
  return Array.from({ length: out }, (_, i) => {
    switch (coordinates) {
      case 'align_corners': return out > 1 ? (i * (size - 1)) / (out - 1) : 0;
      case 'asymmetric': return i / r;
      case 'tf_half_pixel_for_nn': return (i + 0.5) / r;
      case 'pytorch_half_pixel': return out > 1 ? (i + 0.5) / r - 0.5 : 0;
      default: return (i + 0.5) / r - 0.5;
    }
  });
}

function resize(x: Value, a: { size: number[]; mode: string; coordinates: string; nearestMode: string; scale: number[] | null }): Value {
  const [n, c, h, w] = x.shape;
  const [oh, ow] = a.size;
  const sy = resizeSource(oh, h, a.scale ? a.scale[0] : null, a.coordinates);
  const sx = resizeSource(ow, w, a.scale ? a.scale[1] : null, a.coordinates);
  const round = (v: number) => (a.nearestMode === 'round_prefer_floor' ? Math.ceil(v - 0.5) : a.nearestMode === 'round_prefer_ceil' ? Math.floor(v + 0.5) : a.nearestMode === 'floor' ? Math.floor(v) : Math.ceil(v));
  const clampTo = (v: number, size: number) => Math.min(Math.max(v, 0), size - 1);
  const out = new Float64Array(n * c * oh * ow);
  for (let p = 0; p < n * c; p++) for (let i = 0; i < oh; i++) for (let j = 0; j < ow; j++) {
    const at = (yy: number, xx: number) => x.data[(p * h + yy) * w + xx];
    let v: number;
    if (a.mode === 'nearest') {
      v = at(clampTo(round(sy[i]), h), clampTo(round(sx[j]), w));
    } else {
      const cy = clampTo(sy[i], h), cx = clampTo(sx[j], w);
      const y0 = Math.floor(cy), x0 = Math.floor(cx), y1 = Math.min(y0 + 1, h - 1), x1 = Math.min(x0 + 1, w - 1);
      const fy = cy - y0, fx = cx - x0;
      v = (1 - fy) * ((1 - fx) * at(y0, x0) + fx * at(y0, x1)) + fy * ((1 - fx) * at(y1, x0) + fx * at(y1, x1));
    }
    out[(p * oh + i) * ow + j] = v;
  }
  return { shape: [n, c, oh, ow], data: out };
}

/** Scatters every input pixel's window into the uncropped result, then crops by padding (ops.json). */
function convTranspose2d(x: Value, w: Value, bias: Float64Array | undefined, outShape: number[], a: {
  stride: number[]; padding: number[]; dilation: number[]; groups: number; weightLayout: 'IOHW' | 'OHWI';
}): Value {
  const [n, c, h, wd] = x.shape;
  const [, oc, oh, ow] = outShape;
  const cg = c / a.groups, og = oc / a.groups;
  const [kh, kw] = a.weightLayout === 'IOHW' ? [w.shape[2], w.shape[3]] : [w.shape[1], w.shape[2]];
  // weight value for input channel ci, output channel o (o within the group for IOHW)
  const weightAt = (ci: number, o: number, i: number, j: number) => (a.weightLayout === 'IOHW'
    ? w.data[((ci * og + (o % og)) * kh + i) * kw + j]
    : w.data[((o * kh + i) * kw + j) * c + ci]);
  const out = new Float64Array(n * oc * oh * ow);
  for (let b = 0; b < n; b++) for (let o = 0; o < oc; o++) {
    const base = (b * oc + o) * oh * ow;
    if (bias) for (let k = 0; k < oh * ow; k++) out[base + k] = bias[o];
    const g = Math.floor(o / og);
    for (let ci = g * cg; ci < (g + 1) * cg; ci++) for (let y = 0; y < h; y++) for (let z = 0; z < wd; z++) {
      const v = x.data[((b * c + ci) * h + y) * wd + z];
      for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) {
        const ty = y * a.stride[0] + i * a.dilation[0] - a.padding[0];
        const tx = z * a.stride[1] + j * a.dilation[1] - a.padding[1];
        if (ty < 0 || ty >= oh || tx < 0 || tx >= ow) continue;
        out[base + ty * ow + tx] += v * weightAt(ci, o, i, j);
      }
    }
  }
  return { shape: outShape, data: out };
}

export function interpret(g: IrGraph, inputs: Map<string, Value>): Map<string, Value> {
  const values = new Map<string, Value>(inputs);
  for (const [name, t] of g.tensors) if (t.data) values.set(name, { shape: t.shape, data: Float64Array.from(t.data) });
  const get = (name: string) => {
    const v = values.get(name);
    if (!v) throw new Error(`interpret: no value for ${name}`);
    return v;
  };
  const tensor = (name: string): IrTensor => g.tensors.get(name)!;
  for (const node of g.nodes) {
    const outs = run(node, get, tensor);
    node.outputs.forEach((name, i) => values.set(name, outs[i]));
  }
  return new Map(g.outputs.map(o => [o.name, get(o.tensor)]));
}

/** quantize_dynamic (ops.json) in float64, the scale as the float32 the frameworks compute: each slice before
 * `axis` rounded to its run-time grid and written back as real values. No rounding ties in random data. */
function quantizeDynamic(x: Value, scheme: string, axis: number): Value {
  const rows = x.shape.slice(0, axis).reduce((p, d) => p * d, 1);
  const cols = x.data.length / rows;
  const away = (v: number) => Math.sign(v) * Math.round(Math.abs(v));
  const out = new Float64Array(x.data.length);
  for (let r = 0; r < rows; r++) {
    const row = Array.from(x.data.slice(r * cols, (r + 1) * cols));
    const lo = Math.min(0, ...row), hi = Math.max(0, ...row);
    const range = Math.max(Math.abs(Math.min(...row)), Math.abs(Math.max(...row)));
    row.forEach((v, i) => {
      let real = 0;
      if (scheme === 'int8_symmetric' && range > 0) {
        real = clamp(away(v * (127 / range)), -127, 127) * Math.fround(range / 127);
      } else if (scheme !== 'int8_symmetric' && hi > lo) {
        const scale = scheme === 'uint8_asymmetric' ? Math.fround(Math.fround(hi - lo) / 255) : Math.fround((hi - lo) / 255);
        const [qmin, qmax] = scheme === 'uint8_asymmetric' ? [0, 255] : [-128, 127];
        const zero = clamp(scheme === 'uint8_asymmetric' ? Math.round(-lo / scale) : away(-128 - lo / scale), qmin, qmax);
        real = (clamp((scheme === 'uint8_asymmetric' ? Math.round(v / scale) : away(v / scale)) + zero, qmin, qmax) - zero) * scale;
      }
      out[r * cols + i] = real;
    });
  }
  return { shape: x.shape, data: out };
}

function run(node: IrNode, get: (n: string) => Value, tensor: (n: string) => IrTensor): Value[] {
  const x = get(node.inputs[0]);
  const yShape = tensor(node.outputs[0]).shape;
  const yLayout = tensor(node.outputs[0]).layout;
  switch (node.op) {
    case 'conv2d': {
      const w = get(node.inputs[1]);
      const b = node.inputs[2] ? get(node.inputs[2]).data : undefined;
      const xin = toNCHW(x, tensor(node.inputs[0]).layout);
      const nchwOut = yLayout === 'NHWC' ? permute(yShape, [0, 3, 1, 2]) : yShape;
      const y = conv2d(xin, w.data, w.shape, node.attrs.weightLayout, b, nchwOut, node.attrs);
      const act = node.attrs.activation;
      return [fromNCHW(map(y, v => clamp(v, act.min, act.max)), yLayout)];
    }
    case 'max_pool2d':
    case 'avg_pool2d': {
      const xin = toNCHW(x, tensor(node.inputs[0]).layout);
      const nchwOut = yLayout === 'NHWC' ? permute(yShape, [0, 3, 1, 2]) : yShape;
      const a = node.attrs;
      const y = node.op === 'max_pool2d'
        ? pool(xin, nchwOut, a.kernel, a.stride, a.padding, node.attrs.dilation, 'max', false, null)
        : pool(xin, nchwOut, a.kernel, a.stride, a.padding, [1, 1], 'avg', node.attrs.countIncludePad, node.attrs.divisorOverride);
      return [fromNCHW(map(y, v => clamp(v, a.activation.min, a.activation.max)), yLayout)];
    }
    case 'adaptive_avg_pool2d': {
      const xin = toNCHW(x, tensor(node.inputs[0]).layout);
      const [n, c, h, w] = xin.shape;
      const [oh, ow] = node.attrs.outputSize;
      const out = new Float64Array(n * c * oh * ow);
      for (let b = 0; b < n * c; b++) for (let i = 0; i < oh; i++) for (let j = 0; j < ow; j++) {
        const y0 = Math.floor((i * h) / oh), y1 = Math.ceil(((i + 1) * h) / oh);
        const x0 = Math.floor((j * w) / ow), x1 = Math.ceil(((j + 1) * w) / ow);
        let s = 0;
        for (let y = y0; y < y1; y++) for (let z = x0; z < x1; z++) s += xin.data[(b * h + y) * w + z];
        out[(b * oh + i) * ow + j] = s / ((y1 - y0) * (x1 - x0));
      }
      return [fromNCHW({ shape: [n, c, oh, ow], data: out }, yLayout)];
    }
    case 'linear': {
      const w = get(node.inputs[1]);
      const b = node.inputs[2] ? get(node.inputs[2]).data : undefined;
      const [o, i] = w.shape;
      const m = x.data.length / i;
      const out = new Float64Array(m * o);
      for (let r = 0; r < m; r++) for (let c = 0; c < o; c++) {
        let s = b ? b[c] : 0;
        for (let k = 0; k < i; k++) s += x.data[r * i + k] * w.data[c * i + k];
        out[r * o + c] = clamp(s, node.attrs.activation.min, node.attrs.activation.max);
      }
      return [{ shape: yShape, data: out }];
    }
    case 'matmul': {
      const b = get(node.inputs[1]);
      const [m, k] = x.shape.slice(-2);
      const n = b.shape[b.shape.length - 1];
      const batch = numel(yShape) / (m * n);
      const aB = x.data.length / (m * k), bB = b.data.length / (k * n);
      const out = new Float64Array(batch * m * n);
      for (let t = 0; t < batch; t++) for (let r = 0; r < m; r++) for (let c = 0; c < n; c++) {
        let s = 0;
        for (let p = 0; p < k; p++) s += x.data[(aB === 1 ? 0 : t) * m * k + r * k + p] * b.data[(bB === 1 ? 0 : t) * k * n + p * n + c];
        out[(t * m + r) * n + c] = s;
      }
      return [{ shape: yShape, data: out }];
    }
    case 'add': case 'sub': case 'mul': case 'div': case 'maximum': case 'minimum': case 'prelu': case 'pow_tensor': {
      const f = {
        add: (p: number, q: number) => p + q, sub: (p: number, q: number) => p - q, mul: (p: number, q: number) => p * q, div: (p: number, q: number) => p / q,
        maximum: (p: number, q: number) => (Number.isNaN(p) || Number.isNaN(q) ? NaN : Math.max(p, q)),
        minimum: (p: number, q: number) => (Number.isNaN(p) || Number.isNaN(q) ? NaN : Math.min(p, q)),
        prelu: (p: number, q: number) => (p >= 0 ? p : p * q),
        pow_tensor: (p: number, q: number) => Math.pow(p, q)
      }[node.op];
      const act = node.attrs.activation;
      const y = node.attrs.scalar !== undefined
        ? map(x, v => f(v, node.attrs.scalar!))
        : broadcast(x, get(node.inputs[1]), yShape, f);
      return [map(y, v => clamp(v, act.min, act.max))];
    }
    case 'relu': return [map(x, v => Math.max(v, 0))];
    case 'clamp': return [map(x, v => clamp(v, node.attrs.min, node.attrs.max))];
    case 'hardswish': return [map(x, v => (v * clamp(v + 3, 0, 6)) / 6)];
    case 'hardsigmoid': return [map(x, v => clamp(v + 3, 0, 6) / 6)];
    case 'sigmoid': return [map(x, v => 1 / (1 + Math.exp(-v)))];
    case 'silu': return [map(x, v => v / (1 + Math.exp(-v)))];
    case 'tanh': return [map(x, v => Math.tanh(v))];
    case 'gelu': return [map(x, v => node.attrs.approximate === 'tanh'
      ? (v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)))) / 2
      : (v * (1 + erf(v / Math.SQRT2))) / 2)];
    case 'leaky_relu': return [map(x, v => (v >= 0 ? v : v * node.attrs.negativeSlope))];
    case 'quantize_dynamic': return [quantizeDynamic(x, node.attrs.scheme, node.attrs.axis)];
    case 'elu': return [map(x, v => (v > 0 ? v : node.attrs.alpha * Math.expm1(v)))];
    case 'selu': return [map(x, v => 1.0507009873554805 * (v > 0 ? v : 1.6732632423543772 * Math.expm1(v)))];
    case 'softplus': return [map(x, v => (v * node.attrs.beta > node.attrs.threshold ? v : Math.log1p(Math.exp(v * node.attrs.beta)) / node.attrs.beta))];
    case 'softsign': return [map(x, v => v / (1 + Math.abs(v)))];
    case 'mish': return [map(x, v => v * Math.tanh(Math.log1p(Math.exp(v))))];
    case 'exp': return [map(x, Math.exp)];
    case 'erf': return [map(x, erf)];
    case 'log': return [map(x, Math.log)];
    case 'sqrt': return [map(x, Math.sqrt)];
    case 'rsqrt': return [map(x, v => 1 / Math.sqrt(v))];
    case 'pow': return [map(x, v => v ** node.attrs.exponent)];
    case 'abs': return [map(x, Math.abs)];
    case 'neg': return [map(x, v => -v)];
    case 'batch_norm':
    case 'scale_shift': {
      const axis = node.op === 'scale_shift' ? node.attrs.axis : tensor(node.inputs[0]).layout === 'NHWC' ? 3 : 1;
      const { inner } = splitDims(x.shape, axis);
      const channels = x.shape[axis];
      const out = new Float64Array(x.data.length);
      const p = node.inputs.slice(1).map(n => get(n).data);
      for (let i = 0; i < out.length; i++) {
        const c = Math.floor(i / inner) % channels;
        if (node.op === 'batch_norm') {
          const [gamma, beta, mean, variance] = p;
          out[i] = ((x.data[i] - mean[c]) / Math.sqrt(variance[c] + node.attrs.eps)) * gamma[c] + beta[c];
        } else {
          out[i] = clamp(x.data[i] * p[0][c] + p[1][c], node.attrs.activation.min, node.attrs.activation.max);
        }
      }
      return [{ shape: x.shape, data: out }];
    }
    case 'mean': {
      let v = x;
      const axes = [...node.attrs.axes].sort((a, b) => b - a);
      for (const a of axes) {
        const { outer, mid, inner } = splitDims(v.shape, a);
        const out = new Float64Array(outer * inner);
        for (let o = 0; o < outer; o++) for (let i = 0; i < inner; i++) {
          let s = 0;
          for (let m = 0; m < mid; m++) s += v.data[(o * mid + m) * inner + i];
          out[o * inner + i] = s / mid;
        }
        const shape = [...v.shape];
        shape[a] = 1;
        v = { shape, data: out };
      }
      return [{ shape: yShape, data: v.data }];
    }
    case 'sum': case 'reduce_max': case 'reduce_min': {
      let v = x;
      const fold = node.op === 'sum' ? (p: number, q: number) => p + q : node.op === 'reduce_max' ? Math.max : Math.min;
      for (const a of [...node.attrs.axes].sort((p, q) => q - p)) {
        const { outer, mid, inner } = splitDims(v.shape, a);
        const out = new Float64Array(outer * inner);
        for (let o = 0; o < outer; o++) for (let i = 0; i < inner; i++) {
          let acc = v.data[o * mid * inner + i];
          for (let m = 1; m < mid; m++) acc = fold(acc, v.data[(o * mid + m) * inner + i]);
          out[o * inner + i] = acc;
        }
        const shape = [...v.shape];
        shape[a] = 1;
        v = { shape, data: out };
      }
      return [{ shape: yShape, data: v.data }];
    }
    case 'slice': case 'expand': case 'tile': case 'gather': {
      // each output element's source index, from its multi-index over yShape
      const inStrides = x.shape.map((_, d) => x.shape.slice(d + 1).reduce((p, q) => p * q, 1));
      const lead = yShape.length - x.shape.length;
      const out = new Float64Array(yShape.reduce((p, q) => p * q, 1));
      for (let k = 0; k < out.length; k++) {
        let rest = k, at = 0;
        for (let d = yShape.length - 1; d >= 0; d--) {
          const i = rest % yShape[d];
          rest = Math.floor(rest / yShape[d]);
          const xd = d - lead;
          if (xd < 0) continue;
          const source = node.op === 'slice' ? node.attrs.starts[xd] + i * node.attrs.steps[xd]
            : node.op === 'expand' ? (x.shape[xd] === 1 ? 0 : i)
              : node.op === 'tile' ? i % x.shape[xd]
                : xd === node.attrs.axis ? (node.attrs.indices[i] + x.shape[xd]) % x.shape[xd] : i;
          at += source * inStrides[xd];
        }
        out[k] = x.data[at];
      }
      return [{ shape: yShape, data: out }];
    }
    case 'take': {
      // y[o][k][i] = x[o][indices[k]][i] in the framework's order (negative indices count from the end)
      const indices = get(node.inputs[1]).data;
      const a = node.attrs.axis;
      const outer = x.shape.slice(0, a).reduce((p, q) => p * q, 1), inner = x.shape.slice(a + 1).reduce((p, q) => p * q, 1);
      const out = new Float64Array(outer * indices.length * inner);
      for (let o = 0; o < outer; o++) indices.forEach((index, k) => {
        const row = index < 0 ? index + x.shape[a] : index;
        out.set(x.data.subarray((o * x.shape[a] + row) * inner, (o * x.shape[a] + row + 1) * inner), (o * indices.length + k) * inner);
      });
      return [{ shape: yShape, data: out }];
    }
    case 'index_cast': return [x];
    case 'where': {
      const [c, a, o] = node.inputs.map(t => get(t));
      const at = (v: Value, k: number) => {
        // the element of v (broadcast against yShape) under output index k
        let rest = k, off = 0, stride = 1;
        for (let d = yShape.length - 1; d >= 0; d--) {
          const i = rest % yShape[d];
          rest = Math.floor(rest / yShape[d]);
          const vd = d - (yShape.length - v.shape.length);
          if (vd < 0) continue;
          off += (v.shape[vd] === 1 ? 0 : i) * stride;
          stride *= v.shape[vd];
        }
        return v.data[off];
      };
      const out = Float64Array.from({ length: yShape.reduce((p, q) => p * q, 1) }, (_, k) => (at(c, k) !== 0 ? at(a, k) : at(o, k)));
      return [{ shape: yShape, data: out }];
    }
    case 'layer_norm': case 'group_norm': {
      // sets of element indices normalized together, and each element's affine parameter index
      const gamma = node.inputs[1] ? get(node.inputs[1]).data : undefined;
      const beta = node.inputs[2] ? get(node.inputs[2]).data : undefined;
      const sets: number[][] = [];
      let param: (i: number) => number;
      if (node.op === 'layer_norm') {
        const inner = x.shape.slice(node.attrs.axis).reduce((p, q) => p * q, 1);
        for (let o = 0; o < x.data.length / inner; o++) sets.push(Array.from({ length: inner }, (_, i) => o * inner + i));
        param = i => i % inner;
      } else {
        const [n, c] = x.shape;
        const spatial = x.data.length / (n * c);
        const per = c / node.attrs.groups;
        for (let b = 0; b < n; b++) for (let g = 0; g < node.attrs.groups; g++) {
          sets.push(Array.from({ length: per * spatial }, (_, k) => (b * c + g * per) * spatial + k));
        }
        param = i => Math.floor(i / spatial) % c;
      }
      const out = new Float64Array(x.data.length);
      for (const set of sets) {
        const mean = set.reduce((p, i) => p + x.data[i], 0) / set.length;
        const variance = set.reduce((p, i) => p + (x.data[i] - mean) ** 2, 0) / set.length;
        for (const i of set) out[i] = (x.data[i] - mean) / Math.sqrt(variance + node.attrs.eps) * (gamma ? gamma[param(i)] : 1) + (beta ? beta[param(i)] : 0);
      }
      return [{ shape: x.shape, data: out }];
    }
    case 'argmax': case 'argmin': {
      const { outer, mid, inner } = splitDims(x.shape, node.attrs.axis);
      const out = new Float64Array(outer * inner);
      const sign = node.op === 'argmax' ? 1 : -1;
      for (let o = 0; o < outer; o++) for (let i = 0; i < inner; i++) {
        let best = 0;
        for (let m = 1; m < mid; m++) {
          const d = sign * (x.data[(o * mid + m) * inner + i] - x.data[(o * mid + best) * inner + i]);
          if (d > 0 || (d === 0 && node.attrs.selectLastIndex)) best = m;
        }
        out[o * inner + i] = best;
      }
      return [{ shape: yShape, data: out }];
    }
    case 'softmax': case 'log_softmax': {
      const { outer, mid, inner } = splitDims(x.shape, node.attrs.axis);
      const out = new Float64Array(x.data.length);
      for (let o = 0; o < outer; o++) for (let i = 0; i < inner; i++) {
        let m = -Infinity, s = 0;
        for (let k = 0; k < mid; k++) m = Math.max(m, x.data[(o * mid + k) * inner + i]);
        for (let k = 0; k < mid; k++) s += Math.exp(x.data[(o * mid + k) * inner + i] - m);
        for (let k = 0; k < mid; k++) {
          const v = x.data[(o * mid + k) * inner + i] - m;
          out[(o * mid + k) * inner + i] = node.op === 'softmax' ? Math.exp(v) / s : v - Math.log(s);
        }
      }
      return [{ shape: x.shape, data: out }];
    }
    case 'reshape': return [{ shape: yShape, data: x.data }];
    case 'transpose': return [transpose(x, node.attrs.perm)];
    case 'concat': {
      const parts = node.inputs.map(get);
      const a = node.attrs.axis;
      const { outer, inner } = splitDims(yShape, a);
      const out = new Float64Array(numel(yShape));
      let offset = 0;
      for (const p of parts) {
        const size = p.shape[a];
        for (let o = 0; o < outer; o++) for (let k = 0; k < size * inner; k++) out[(o * yShape[a] + offset) * inner + k] = p.data[o * size * inner + k];
        offset += size;
      }
      return [{ shape: yShape, data: out }];
    }
    case 'split': {
      const a = node.attrs.axis;
      const { outer, inner } = splitDims(x.shape, a);
      let offset = 0;
      return node.attrs.sizes.map(size => {
        const out = new Float64Array(outer * size * inner);
        for (let o = 0; o < outer; o++) for (let k = 0; k < size * inner; k++) out[o * size * inner + k] = x.data[(o * x.shape[a] + offset) * inner + k];
        offset += size;
        const shape = [...x.shape];
        shape[a] = size;
        return { shape, data: out };
      });
    }
    case 'resize': {
      const xin = toNCHW(x, tensor(node.inputs[0]).layout);
      return [fromNCHW(resize(xin, node.attrs), yLayout)];
    }
    case 'conv_transpose2d': {
      const w = get(node.inputs[1]);
      const b = node.inputs[2] ? get(node.inputs[2]).data : undefined;
      const xin = toNCHW(x, tensor(node.inputs[0]).layout);
      const nchwOut = yLayout === 'NHWC' ? permute(yShape, [0, 3, 1, 2]) : yShape;
      const y = convTranspose2d(xin, w, b, nchwOut, node.attrs);
      const act = node.attrs.activation;
      return [fromNCHW(map(y, v => clamp(v, act.min, act.max)), yLayout)];
    }
    case 'pad': {
      if (node.attrs.mode !== 'constant') return [mirrorPad(x, yShape, node.attrs.pads, node.attrs.mode)];
      const out = new Float64Array(numel(yShape)).fill(node.attrs.value);
      const inStrides = denseStrides(x.shape);
      const outStrides = denseStrides(yShape);
      for (let i = 0; i < x.data.length; i++) {
        let o = 0;
        for (let k = 0; k < x.shape.length; k++) o += (Math.floor(i / inStrides[k]) % x.shape[k] + node.attrs.pads[k][0]) * outStrides[k];
        out[o] = x.data[i];
      }
      return [{ shape: yShape, data: out }];
    }
  }
}

function erf(x: number): number {
  // Maclaurin series; the tests keep |x| small, where it converges to double precision.
  const t = Math.abs(x);
  if (t < 4) {
    let sum = 0, term = t;
    for (let n = 0; n < 200 && Math.abs(term) > 1e-18; n++) {
      sum += term / (2 * n + 1);
      term *= (-t * t) / (n + 1);
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum;
  }
  return Math.sign(x) * 1;
}
