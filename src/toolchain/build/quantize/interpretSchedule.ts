// A float32 interpreter of an fp32 schedule (the kernels' own semantics and weight
// layouts), used to observe activation ranges for calibration. Plain loops: MobileNetV2
// takes about a second per input.

import { EdgespecError } from '../../errors';
import { KernelStep, PackedWeight, Schedule, Shape4 } from '../schedule';

type Tensors = Map<string, Float32Array>;

const clamp = (v: number, lo: number, hi: number) => (v < lo ? lo : v > hi ? hi : v);

function convLike(x: Float32Array, is: Shape4, w: Float32Array, bias: Float32Array | null, os: Shape4, a: {
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
          y[base + oc] = clamp(acc, a.act.min, a.act.max);
        }
      }
    }
  }
  return y;
}

function stridedIndex(i: number, shape: number[], strides: number[]): number {
  let off = 0;
  for (let d = 3; d >= 0; d--) {
    const pos = i % shape[d];
    i = Math.floor(i / shape[d]);
    off += pos * strides[d];
  }
  return off;
}

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
      y[((b * os.h + oy) * os.w + ox) * os.c + c] = clamp(acc, a.act.min, a.act.max);
    }
  }
  return y;
}

function transpose(x: Float32Array, shape: number[], perm: number[]): Float32Array {
  const outShape = perm.map(p => shape[p]);
  const inStrides = shape.map((_, d) => shape.slice(d + 1).reduce((p, q) => p * q, 1));
  const y = new Float32Array(x.length);
  for (let i = 0; i < y.length; i++) {
    let rest = i;
    let off = 0;
    for (let d = outShape.length - 1; d >= 0; d--) {
      const pos = rest % outShape[d];
      rest = Math.floor(rest / outShape[d]);
      off += pos * inStrides[perm[d]];
    }
    y[i] = x[off];
  }
  return y;
}

function run(step: KernelStep, get: (name: string) => Float32Array, weights: Map<string, PackedWeight>): Float32Array[] {
  const w = (name: string | null) => (name === null ? null : weights.get(name)?.data ?? get(name));
  const unary = (x: Float32Array, f: (v: number) => number) => x.map(f);
  switch (step.kernel) {
    case 'conv2d': { const a = step.args; return [convLike(get(a.x), a.is, w(a.w)!, w(a.b), a.os, a, a.groups, false)]; }
    case 'conv2d_depthwise': { const a = step.args; return [convLike(get(a.x), a.is, w(a.w)!, w(a.b), a.os, a, a.is.c, true)]; }
    case 'gemm': {
      const a = step.args;
      const x = get(a.a), wt = w(a.w)!, b = w(a.b);
      const y = new Float32Array(a.m * a.n);
      for (let r = 0; r < a.m; r++) {
        const acc = new Float64Array(a.n);
        for (let k = 0; k < a.k; k++) {
          const xv = x[r * a.k + k];
          if (xv === 0) continue;
          for (let n = 0; n < a.n; n++) acc[n] += xv * wt[k * a.n + n];
        }
        for (let n = 0; n < a.n; n++) y[r * a.n + n] = clamp(acc[n] + (b ? b[n] : 0), a.act.min, a.act.max);
      }
      return [y];
    }
    case 'add': case 'sub': case 'mul': case 'div': {
      const a = step.args;
      const x = w(a.a)!, z = w(a.b)!;
      const count = a.outShape.reduce((p, q) => p * q, 1);
      const f = { add: (p: number, q: number) => p + q, sub: (p: number, q: number) => p - q, mul: (p: number, q: number) => p * q, div: (p: number, q: number) => p / q }[step.kernel];
      const y = new Float32Array(count);
      for (let i = 0; i < count; i++) y[i] = clamp(f(x[stridedIndex(i, a.outShape, a.aStrides)], z[stridedIndex(i, a.outShape, a.bStrides)]), a.act.min, a.act.max);
      return [y];
    }
    case 'add_scalar': { const a = step.args; return [unary(get(a.x), v => clamp(v + a.s, a.act.min, a.act.max))]; }
    case 'mul_scalar': { const a = step.args; return [unary(get(a.x), v => clamp(v * a.s, a.act.min, a.act.max))]; }
    case 'clamp': { const a = step.args; return [unary(get(a.x), v => clamp(v, a.lo, a.hi))]; }
    case 'hardswish': return [unary(get(step.args.x), v => v * clamp(v + 3, 0, 6) / 6)];
    case 'hardsigmoid': return [unary(get(step.args.x), v => clamp(v + 3, 0, 6) / 6)];
    case 'sigmoid': return [unary(get(step.args.x), v => 1 / (1 + Math.exp(-v)))];
    case 'silu': return [unary(get(step.args.x), v => v / (1 + Math.exp(-v)))];
    case 'tanh': return [unary(get(step.args.x), Math.tanh)];
    case 'scale_shift': {
      const a = step.args;
      const x = get(a.x), s = w(a.scale)!, t = w(a.shift)!;
      return [x.map((v, i) => clamp(v * s[i % a.channels] + t[i % a.channels], a.act.min, a.act.max))];
    }
    case 'max_pool2d': { const a = step.args; return [pool(get(a.x), a.is, a.os, a, true, [a.dilationH, a.dilationW])]; }
    case 'avg_pool2d': { const a = step.args; return [pool(get(a.x), a.is, a.os, a, false, [1, 1], a.countIncludePad, a.divisorOverride)]; }
    case 'mean': {
      const a = step.args;
      const x = get(a.x);
      const y = new Float32Array(a.outer * a.inner);
      for (let o = 0; o < a.outer; o++) for (let r = 0; r < a.reduce; r++) for (let i = 0; i < a.inner; i++) y[o * a.inner + i] += x[(o * a.reduce + r) * a.inner + i];
      return [y.map(v => v / a.reduce)];
    }
    case 'softmax': {
      const a = step.args;
      const x = get(a.x);
      const y = new Float32Array(x.length);
      for (let o = 0; o < a.outer; o++) for (let i = 0; i < a.inner; i++) {
        const at = (k: number) => (o * a.axis + k) * a.inner + i;
        let m = -Infinity;
        for (let k = 0; k < a.axis; k++) m = Math.max(m, x[at(k)]);
        let s = 0;
        for (let k = 0; k < a.axis; k++) s += Math.exp(x[at(k)] - m);
        for (let k = 0; k < a.axis; k++) y[at(k)] = Math.exp(x[at(k)] - m) / s;
      }
      return [y];
    }
    case 'concat': {
      const a = step.args;
      const total = a.sizes.reduce((p, q) => p + q, 0);
      const y = new Float32Array(a.outer * total * a.inner);
      let at = 0;
      for (let o = 0; o < a.outer; o++) a.xs.forEach((x, i) => {
        const span = a.sizes[i] * a.inner;
        y.set(get(x).subarray(o * span, (o + 1) * span), at);
        at += span;
      });
      return [y];
    }
    case 'split': {
      const a = step.args;
      const x = get(a.x);
      const total = a.sizes.reduce((p, q) => p + q, 0);
      return a.sizes.map((size, i) => {
        const before = a.sizes.slice(0, i).reduce((p, q) => p + q, 0);
        const y = new Float32Array(a.outer * size * a.inner);
        for (let o = 0; o < a.outer; o++) y.set(x.subarray((o * total + before) * a.inner, (o * total + before + size) * a.inner), o * size * a.inner);
        return y;
      });
    }
    case 'transpose': { const a = step.args; return [transpose(get(a.x), a.inShape, a.perm)]; }
    case 'copy': case 'alias': return [get(step.args.x)];
    case 'matmul': {
      const a = step.args;
      const x = get(a.a), z = get(a.b);
      const y = new Float32Array(a.batch * a.m * a.n);
      for (let b = 0; b < a.batch; b++) for (let i = 0; i < a.m; i++) for (let j = 0; j < a.n; j++) {
        let acc = 0;
        for (let k = 0; k < a.k; k++) acc += x[b * a.aBatchStride + i * a.k + k] * z[b * a.bBatchStride + k * a.n + j];
        y[(b * a.m + i) * a.n + j] = acc;
      }
      return [y];
    }
    case 'gelu': {
      const a = step.args;
      const erf = (v: number) => { // Abramowitz-Stegun 7.1.26: ranges only need a few digits
        const t = 1 / (1 + 0.3275911 * Math.abs(v));
        const e = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-v * v);
        return v < 0 ? -e : e;
      };
      return [get(a.x).map(v => (a.tanh ? 0.5 * v * (1 + Math.tanh(0.7978845608 * (v + 0.044715 * v * v * v))) : 0.5 * v * (1 + erf(v / Math.SQRT2))))];
    }
    case 'adaptive_avg_pool2d': {
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
    case 'pad': {
      const a = step.args;
      const x = get(a.x);
      const outShape = a.inShape.map((d, k) => d + a.pads[2 * k] + a.pads[2 * k + 1]);
      const y = new Float32Array(outShape.reduce((p, q) => p * q, 1)).fill(a.value);
      for (let i = 0; i < x.length; i++) {
        let rest = i, off = 0, stride = 1;
        for (let d = a.inShape.length - 1; d >= 0; d--) {
          off += (rest % a.inShape[d] + a.pads[2 * d]) * stride;
          rest = Math.floor(rest / a.inShape[d]);
          stride *= outShape[d];
        }
        y[off] = x[i];
      }
      return [y];
    }
    default: {
      // Every fp32 kernel is handled above; a kernel added later lands here until it is.
      const s = step as KernelStep;
      throw new EdgespecError('calibration-op', `calibration cannot run op ${s.op} (kernel ${s.kernel}, layer ${s.from.module || s.from.name})`,
        'put the activation ranges into the bundle\'s "calibration" field (tensor name → {min, max}) when capturing');
    }
  }
}

/**
 * Runs the schedule on each input set and returns every activation tensor's observed
 * [min, max] over all of them.
 */
export function observeRanges(schedule: Schedule, inputSets: Float32Array[][]): Map<string, { min: number; max: number }> {
  const weights = new Map(schedule.weights.map(w => [w.name, w]));
  const ranges = new Map<string, { min: number; max: number }>();
  for (const inputs of inputSets) {
    const values: Tensors = new Map();
    schedule.inputs.forEach((io, i) => values.set(io.tensor, inputs[i]));
    const get = (name: string) => {
      const v = values.get(name);
      if (!v) throw new Error(`internal: calibration reads ${name} before it is computed`);
      return v;
    };
    for (const step of schedule.steps) {
      const outs = run(step, get, weights);
      step.writes.forEach((name, i) => values.set(name, outs[i]));
    }
    for (const [name, v] of values) {
      let lo = Infinity, hi = -Infinity;
      for (let i = 0; i < v.length; i++) { if (v[i] < lo) lo = v[i]; if (v[i] > hi) hi = v[i]; }
      const r = ranges.get(name);
      ranges.set(name, r ? { min: Math.min(r.min, lo), max: Math.max(r.max, hi) } : { min: lo, max: hi });
    }
  }
  return ranges;
}
