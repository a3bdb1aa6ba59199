// Quantization parameters and the integer arithmetic the int8 kernels use
// (kernels/include/edgespec/kernels_int8.h): TFLite-compatible fixed-point requantization.

/** real = scale * (q - zp), q in [-128, 127]. */
export interface QParams {
  scale: number;
  zp: number;
}

/** A real multiplier as a Q0.31 fixed-point value in [2^30, 2^31) and a power-of-two shift (> 0: left). */
export interface FixedMultiplier {
  mult: number;
  shift: number;
}

/** Per-tensor asymmetric int8 parameters covering [min, max] (and always 0, so zero is exact). */
export function activationParams(min: number, max: number): QParams {
  const lo = Math.min(0, Number.isFinite(min) ? min : 0);
  const hi = Math.max(0, Number.isFinite(max) ? max : 0);
  if (hi - lo < 1e-12) return { scale: 1e-6, zp: 0 };
  const scale = Math.fround((hi - lo) / 255);
  const zp = Math.max(-128, Math.min(127, Math.round(-128 - lo / scale)));
  return { scale, zp };
}

/** real = mult * 2^(shift - 31), as TFLite's QuantizeMultiplier (frexp, then round the mantissa). */
export function fixedMultiplier(real: number): FixedMultiplier {
  if (!(real > 0) || !Number.isFinite(real)) return { mult: 0, shift: 0 };
  let exponent = Math.floor(Math.log2(real)) + 1;
  let mantissa = real / 2 ** exponent; // [0.5, 1)
  if (mantissa >= 1) { mantissa /= 2; exponent += 1; }
  if (mantissa < 0.5) { mantissa *= 2; exponent -= 1; }
  let q = Math.round(mantissa * 2 ** 31);
  if (q === 2 ** 31) { q /= 2; exponent += 1; }
  if (exponent < -31) return { mult: 0, shift: 0 };
  if (exponent > 30) throw new Error(`internal: requantization multiplier ${real} is too large`);
  return { mult: q, shift: exponent };
}

/** Round half away from zero (C's roundf). */
export function roundHalfAway(x: number): number {
  return x < 0 ? -Math.round(-x) : Math.round(x);
}

export function quantizeValue(x: number, p: QParams): number {
  return Math.max(-128, Math.min(127, roundHalfAway(x / p.scale) + p.zp));
}

/** The int8 clamp of a fused activation: the real bounds in the output's domain. */
export function activationBounds(min: number, max: number, p: QParams): [number, number] {
  const lo = Number.isFinite(min) ? Math.max(-128, p.zp + roundHalfAway(min / p.scale)) : -128;
  const hi = Number.isFinite(max) ? Math.min(127, p.zp + roundHalfAway(max / p.scale)) : 127;
  return [lo, Math.max(lo, hi)];
}

// The integer primitives, bit-exact with kernels_int8.h (BigInt for the 64-bit product).

export function saturatingRoundingDoublingHighMul(a: number, b: number): number {
  if (a === b && a === -2147483648) return 2147483647;
  const ab = BigInt(a) * BigInt(b);
  const nudge = ab >= 0n ? 1n << 30n : 1n - (1n << 30n);
  // C's int64 division truncates toward zero, as BigInt division does.
  return Number((ab + nudge) / (1n << 31n));
}

export function roundingDivideByPot(x: number, exponent: number): number {
  const mask = Number((1n << BigInt(exponent)) - 1n) | 0;
  const remainder = x & mask;
  const threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

export function requantize(x: number, m: FixedMultiplier): number {
  const left = m.shift > 0 ? m.shift : 0;
  const right = m.shift > 0 ? 0 : -m.shift;
  return roundingDivideByPot(saturatingRoundingDoublingHighMul((x << left) | 0, m.mult), right);
}

/** Per-channel symmetric int8 weights: channel c = index along `axis`. */
export function quantizePerChannel(data: Float32Array, shape: number[], axis: number): { q: Int8Array; scales: Float64Array } {
  const channels = shape[axis];
  const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const scales = new Float64Array(channels);
  for (let i = 0; i < data.length; i++) {
    const c = Math.floor(i / inner) % channels;
    scales[c] = Math.max(scales[c], Math.abs(data[i]));
  }
  for (let c = 0; c < channels; c++) scales[c] = scales[c] > 0 ? scales[c] / 127 : 1;
  const q = new Int8Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const c = Math.floor(i / inner) % channels;
    q[i] = Math.max(-127, Math.min(127, roundHalfAway(data[i] / scales[c])));
  }
  return { q, scales };
}
