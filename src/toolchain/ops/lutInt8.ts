// int8 elementwise functions of one input as a 256-entry lookup table (es_lut_s8), the way
// TFLite runs LOGISTIC, TANH, ELU, GELU, EXP and the like: at prepare it dequantizes every
// input code, applies the float function and quantizes the result to the output's parameters.
// The table is made here at build time and packed with the weights. The arithmetic follows
// TFLite's LUTPopulate in float32: each float operation is rounded to float32 (Math.fround),
// the libm function is computed in double and rounded once (as a correctly rounded expf
// would), and the result is rounded half away from zero.

import type { Provenance } from '../build/ir';
import type { QParams } from '../build/quantize/params';
import { roundHalfAway } from '../build/quantize/params';
import type { Int8Context } from './opModule';

const f = Math.fround;

/** How a table rescales: TFLite's LUTs multiply by 1 / out_scale and round half away from zero; its int8 SQRT divides by out_scale and truncates. */
export type LutRounding = 'half-away' | 'toward-zero';

/** The table of `fn` (a float32 function of the dequantized value) from `pin` to `pout`; entry i is input code i - 128. */
export function lutTable(pin: QParams, pout: QParams, fn: (v: number) => number, rounding: LutRounding = 'half-away'): Int8Array {
  const table = new Int8Array(256);
  const inverseScale = f(1 / f(pout.scale));
  const inScale = f(pin.scale);
  for (let code = -128; code <= 127; code++) {
    const dequantized = f(inScale * (code - pin.zp));
    const value = f(fn(dequantized));
    const rescaled = rounding === 'half-away' ? roundHalfAway(f(value * inverseScale)) : Math.trunc(f(value / f(pout.scale)));
    // NaN (log or sqrt of a negative) ends at the lowest code, as TFLite's float-to-int cast does on x86
    const quantized = Number.isNaN(rescaled) ? -128 : rescaled + pout.zp;
    table[code + 128] = Math.max(-128, Math.min(127, quantized));
  }
  return table;
}

/** The float32 functions TFLite builds its tables from, operation by operation. */
export const lutFunctions = {
  sigmoid: (v: number) => f(1 / f(1 + f(Math.exp(-v)))),
  tanh: (v: number) => f(Math.tanh(v)),
  exp: (v: number) => f(Math.exp(v)),
  log: (v: number) => f(Math.log(v)),
  sqrt: (v: number) => f(Math.sqrt(v)),
  rsqrt: (v: number) => f(1 / f(Math.sqrt(v))),
  /** TFLite's ELU (alpha 1): expm1 below zero; another alpha scales it. */
  elu: (alpha: number) => (v: number) => (v < 0 ? (alpha === 1 ? f(Math.expm1(v)) : f(f(alpha) * f(Math.expm1(v)))) : v),
  /** reference_ops::GeluTransformApproximate: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))). */
  geluTanh: (v: number) => {
    const cube = f(f(f(f(0.044715) * v) * v) * v);
    return f(f(0.5 * v) * f(1 + f(Math.tanh(f(f(0.7978845608028654) * f(v + cube))))));
  },
  /** reference_ops::GeluTransform: 0.5 x erfc(-x / sqrt(2)). */
  gelu: (v: number) => f(f(0.5 * v) * f(erfc(f(v * f(-Math.SQRT1_2)))))
};

/** erfc in double to about 1e-15 relative (a float32 erfc needs a few digits beyond float's). */
export function erfc(x: number): number {
  if (x < 0) return 2 - erfc(-x);
  if (x < 2) return 1 - erfSeries(x);
  if (x > 27) return 0;
  // continued fraction (Lentz) for large x
  const tiny = 1e-300;
  let fr = x, c = x, d = 0;
  for (let n = 1; n < 300; n++) {
    const an = n / 2;
    d = x + an * d; d = d === 0 ? tiny : 1 / d;
    c = x + an / c; if (c === 0) c = tiny;
    const delta = c * d;
    fr *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return Math.exp(-x * x) / (fr * Math.sqrt(Math.PI));
}

/** erf by its Taylor series (x < 2: converges in under 60 terms, cancellation below 1e-15). */
function erfSeries(x: number): number {
  let term = x, sum = x;
  const x2 = x * x;
  for (let n = 1; n < 100; n++) {
    term *= -x2 / n;
    const add = term / (2 * n + 1);
    sum += add;
    if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
  }
  return sum * 2 / Math.sqrt(Math.PI);
}

/** What a kernel module lowered by lowerLut declares (KernelModule.int8Functions). */
export const LUT_FUNCTIONS = ['es_lut_s8'] as const;

/** Lowers a one-input elementwise step to es_lut_s8 with the table of `fn`. */
export function lowerLut(step: { from: Provenance; op: string; args: { x: string; y: string; count: number } }, q: Int8Context, fn: (v: number) => number,
  givenRounding: LutRounding = 'half-away'): void {
  const a = step.args;
  const x = q.as(a.x, 's8', step.from);
  const pin = q.paramsOf(x);
  const pout = q.rangeParams(a.y);
  // calibrated models round to nearest; an int8 .tflite's own rounding where it differs
  const table = lutTable(pin, pout, fn, q.given ? givenRounding : 'half-away');
  const w = q.addWeight({ name: `${a.y}#lut`, source: step.from.source ?? step.from.name, module: step.from.module, shape: [256],
    packing: `int8 lookup table of ${step.op} (input code + 128)`, bytes: Buffer.from(table.buffer, table.byteOffset, table.byteLength), elementBytes: 1 });
  q.outputS8(a.y, pout, y => q.push({
    kernel: 'lut_s8', from: step.from, op: step.op, reads: [x, w], writes: [y], inPlace: x === a.x ? [x] : [],
    call: ptr => `es_lut_s8(${ptr.read(x)}, ${ptr.write(y)}, ${a.count}, ${ptr.read(w)})`
  }), step.from);
}
