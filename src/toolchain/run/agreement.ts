import { RunReport } from '../../common/types';

export type Agreement = NonNullable<RunReport['agreement']>;

/** fp32 outputs agree when max |out - ref| <= TOLERANCE_SCALE * max |ref| (DESIGN.md "Numbers"). */
export const TOLERANCE_SCALE = 1e-4;

/**
 * int8 images are judged by top-1 and a looser bound: each quantized layer adds up to half a
 * quantization step (~0.2 % of its range), and errors of a few dozen layers add up to a few %.
 */
export const INT8_TOLERANCE_SCALE = 5e-2;

/**
 * The int8 bar in absolute terms: INT8_TOLERANCE_SCALE of the largest reference value, but never
 * less than one step of the outputs' int8 grid (build.json quantization_step): a softmax whose
 * largest probability is 0.05, on a 1/256 grid, cannot be nearer than one step when it differs.
 */
export function int8Floor(outputs: readonly { quantization_step?: number }[]): number {
  // a step's difference of two float32 values, each dequantized and rounded, may exceed the
  // step by an ulp (1/255 measured as 0.0039215703): the floor carries that rounding's slack
  return Math.max(0, ...outputs.map(o => o.quantization_step ?? 0)) * (1 + 1e-5);
}

/**
 * A float16 model's reference (graph.json reference.arithmetic "float16"): onnxruntime rounds the
 * outputs (and, where its kernels compute in float16, intermediates) to float16, whose half step is
 * 2^-11 ≈ 4.9e-4 of a value; the image computes in float32. Four half steps of the largest value.
 */
export const FLOAT16_TOLERANCE_SCALE = 2e-3;

/**
 * Relative error divides by max(|ref_i|, REL_ERROR_FLOOR * max|ref|): an element whose
 * reference is near zero would otherwise report a huge relative error for a tiny difference.
 */
export const REL_ERROR_FLOOR = 1e-3;

/**
 * x rounded to the nearest float16 (ties to even; beyond the largest, 65504, infinite): a float16
 * model's outputs are compared in the precision its reference was written in.
 */
export function roundToFloat16(x: number): number {
  if (!Number.isFinite(x) || x === 0) return x;
  const a = Math.abs(x);
  let exponent = Math.floor(Math.log2(a));
  if (2 ** exponent > a) exponent--;
  if (2 ** (exponent + 1) <= a) exponent++;
  const step = 2 ** (Math.max(exponent, -14) - 10);
  const q = a / step;
  let r = Math.round(q);
  if (r - q === 0.5 && r % 2 === 1) r -= 1;
  const v = r * step;
  return Math.sign(x) * (v > 65504 ? Infinity : v);
}

/** Indices of the k largest values, largest first; ties keep the lower index first. */
export function topK(values: ArrayLike<number>, k: number): number[] {
  const order = Array.from({ length: values.length }, (_, i) => i);
  order.sort((a, b) => values[b] - values[a] || a - b);
  return order.slice(0, Math.min(k, values.length));
}

/**
 * Ties are not disagreements: quantized and float16 outputs hold many equal values, and which of a
 * tie ranks first is the index order. The picks agree when the image's top value is tied with the
 * reference's in the reference, or the reference's in the image.
 */
function tiedTop1(pair: OutputPair, top: number | undefined, referenceTop: number | undefined): boolean {
  if (top === undefined || referenceTop === undefined) return false;
  return pair.reference[top] === pair.reference[referenceTop] || pair.output[top] === pair.output[referenceTop];
}

/** Every image top-5 index the reference's top 5 lacks is tied with the reference's fifth value. */
function tiedTop5(pair: OutputPair, top5: number[], referenceTop5: number[]): boolean {
  if (top5.length !== referenceTop5.length || top5.length === 0) return false;
  const last = pair.reference[referenceTop5[referenceTop5.length - 1]];
  return top5.every(i => referenceTop5.includes(i) || pair.reference[i] === last);
}

export interface OutputPair {
  output: ArrayLike<number>;
  reference: ArrayLike<number>;
  /** An integer output (indices, argmax): it agrees only when every value equals the reference's. */
  exact?: { name: string };
}

/**
 * Compares every output with its reference. Errors and the tolerance span all outputs;
 * top-k is taken over the first output (the classifier's logits for the models we serve).
 * A non-finite output value agrees only with the same non-finite reference value (a model
 * whose reference holds -Inf, e.g. a mask, may reproduce it); `nonFinite` counts the others.
 * A non-finite reference value with a finite output disagrees as well. Integer outputs
 * (`exact`, listed in exact_outputs) agree only when equal to their reference.
 */
export function computeAgreement(pairs: OutputPair[], toleranceScale = TOLERANCE_SCALE, minTolerance = 0): { agreement: Agreement; nonFinite: number } {
  let maxAbsRef = 0;
  for (const { reference } of pairs) {
    for (let i = 0; i < reference.length; i++) if (Number.isFinite(reference[i])) maxAbsRef = Math.max(maxAbsRef, Math.abs(reference[i]));
  }
  const relFloor = REL_ERROR_FLOOR * maxAbsRef || Number.MIN_VALUE;
  let maxAbs = 0;
  let maxRel = 0;
  let nonFinite = 0;
  let unmatchedReference = 0;
  let exactMismatches = 0;
  for (const { output, reference, exact } of pairs) {
    if (output.length !== reference.length) {
      throw new Error(`output has ${output.length} elements but its reference has ${reference.length}`);
    }
    for (let i = 0; i < output.length; i++) {
      if (!Number.isFinite(output[i])) {
        if (!Object.is(output[i], reference[i])) nonFinite++;
        continue;
      }
      if (!Number.isFinite(reference[i])) {
        unmatchedReference++;
        continue;
      }
      const abs = Math.abs(output[i] - reference[i]);
      if (exact && abs !== 0) exactMismatches++;
      maxAbs = Math.max(maxAbs, abs);
      maxRel = Math.max(maxRel, abs / Math.max(Math.abs(reference[i]), relFloor));
    }
  }
  const tolerance = Math.max(toleranceScale * maxAbsRef, minTolerance);
  const first = pairs[0];
  const top5 = topK(first.output, 5);
  const referenceTop5 = topK(first.reference, 5);
  const sameSet = top5.length === referenceTop5.length && top5.every(i => referenceTop5.includes(i));
  const agreement: Agreement = {
    max_abs_error: maxAbs,
    max_rel_error: maxRel,
    max_abs_reference: maxAbsRef,
    tolerance,
    within_tolerance: nonFinite === 0 && unmatchedReference === 0 && exactMismatches === 0 && maxAbs <= tolerance,
    top1_match: nonFinite === 0 && (top5[0] === referenceTop5[0] || tiedTop1(first, top5[0], referenceTop5[0])),
    top5_match: nonFinite === 0 && (sameSet || tiedTop5(first, top5, referenceTop5)),
    top5,
    reference_top5: referenceTop5,
    ...(pairs.some(p => p.exact) ? { exact_outputs: pairs.filter(p => p.exact).map(p => p.exact!.name) } : {})
  };
  return { agreement, nonFinite };
}
