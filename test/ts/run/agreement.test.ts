import { computeAgreement, INT8_TOLERANCE_SCALE, int8Floor, roundToFloat16, topK } from '../../../src/toolchain/run/agreement';

describe('topK', () => {
  it('orders the largest first and breaks ties by index', () => {
    expect(topK([0.1, 5, 3, 5, -1, 4], 5)).toEqual([1, 3, 5, 2, 0]);
  });
  it('returns fewer indices for a short output', () => {
    expect(topK([2, 1], 5)).toEqual([0, 1]);
  });
});

describe('computeAgreement', () => {
  const reference = Float32Array.from([1, -20, 3, 0, 0.5, 7, 2]);

  it('agrees exactly with itself', () => {
    const { agreement, nonFinite } = computeAgreement([{ output: reference, reference }]);
    expect(nonFinite).toBe(0);
    expect(agreement).toMatchObject({
      max_abs_error: 0,
      max_rel_error: 0,
      max_abs_reference: 20,
      within_tolerance: true,
      top1_match: true,
      top5_match: true,
      top5: [5, 2, 6, 0, 4],
      reference_top5: [5, 2, 6, 0, 4]
    });
    expect(agreement.tolerance).toBeCloseTo(2e-3, 12);
  });

  it('scales the tolerance with max|reference| and flags an error just above it', () => {
    const inside = Float32Array.from(reference);
    inside[0] += 0.0019;
    expect(computeAgreement([{ output: inside, reference }]).agreement.within_tolerance).toBe(true);
    const outside = Float32Array.from(reference);
    outside[0] += 0.0021;
    const { agreement } = computeAgreement([{ output: outside, reference }]);
    expect(agreement.within_tolerance).toBe(false);
    expect(agreement.max_abs_error).toBeCloseTo(0.0021, 6);
    expect(agreement.top5_match).toBe(true);
  });

  it('floors the relative error denominator near zero references', () => {
    const output = Float32Array.from(reference);
    output[3] = 0.001; // reference 0: divided by 1e-3 * 20, not by 0
    const { agreement } = computeAgreement([{ output, reference }]);
    expect(agreement.max_rel_error).toBeCloseTo(0.001 / 0.02, 4);
  });

  it('reports a changed winner and a changed top-5 set', () => {
    const output = Float32Array.from(reference);
    output[1] = 100;
    const { agreement } = computeAgreement([{ output, reference }]);
    expect(agreement.top1_match).toBe(false);
    expect(agreement.top5_match).toBe(false);
    expect(agreement.top5[0]).toBe(1);
  });

  it('accepts a reordering inside the top-5 as the same top-5', () => {
    const output = Float32Array.from(reference);
    output[4] = 1.0001; // swaps ranks 4 and 5 (indices 0 and 4)
    const { agreement } = computeAgreement([{ output, reference }]);
    expect(agreement.top5).toEqual([5, 2, 6, 4, 0]);
    expect(agreement.top5_match).toBe(true);
  });

  it('never agrees with a NaN output', () => {
    const output = Float32Array.from(reference);
    output[2] = NaN;
    const { agreement, nonFinite } = computeAgreement([{ output, reference }]);
    expect(nonFinite).toBe(1);
    expect(agreement.within_tolerance).toBe(false);
    expect(Number.isFinite(agreement.max_abs_error)).toBe(true);
  });

  it('spans several outputs for the errors', () => {
    const { agreement } = computeAgreement([
      { output: [1, 2], reference: [1, 2] },
      { output: [10, 0], reference: [10, 0.5] }
    ]);
    expect(agreement.max_abs_reference).toBe(10);
    expect(agreement.max_abs_error).toBeCloseTo(0.5, 12);
    expect(agreement.within_tolerance).toBe(false);
  });
});

describe('computeAgreement for int8 images', () => {
  const reference = Float32Array.from([1, -20, 3, 0, 0.5, 7, 2]);
  const quantized = Float32Array.from([1.2, -19.5, 3.3, 0.1, 0.4, 7.4, 2.2]);

  it('takes the int8 bound (5 % of max|reference|) where the fp32 bound refuses', () => {
    expect(computeAgreement([{ output: quantized, reference }]).agreement.within_tolerance).toBe(false);
    const { agreement } = computeAgreement([{ output: quantized, reference }], INT8_TOLERANCE_SCALE);
    expect(agreement.tolerance).toBeCloseTo(1.0, 6);
    expect(agreement.within_tolerance).toBe(true);
    expect(agreement.top1_match).toBe(true);
  });

  it('still refuses an error beyond the int8 bound', () => {
    const off = Float32Array.from(quantized);
    off[1] = -18.5;
    expect(computeAgreement([{ output: off, reference }], INT8_TOLERANCE_SCALE).agreement.within_tolerance).toBe(false);
  });
});

describe('computeAgreement for integer outputs', () => {
  it('holds an integer output (argmax) to exact equality and names it in exact_outputs', () => {
    const logits = { output: [1000, -1000, 500], reference: [1000, -1000, 500] };
    const wrong = computeAgreement([logits, { output: [3, 1], reference: [3, 2], exact: { name: 'best' } }]).agreement;
    expect(wrong.max_abs_error).toBe(1);
    expect(wrong.within_tolerance).toBe(false);
    expect(wrong.exact_outputs).toEqual(['best']);
    const same = computeAgreement([logits, { output: [3, 2], reference: [3, 2], exact: { name: 'best' } }]).agreement;
    expect(same.within_tolerance).toBe(true);
    expect(same.exact_outputs).toEqual(['best']);
  });

  it('names no exact outputs when every output is float', () => {
    expect(computeAgreement([{ output: [1], reference: [1] }]).agreement.exact_outputs).toBeUndefined();
  });

  it('refuses an integer output off by one even when its scale makes that a tiny relative error', () => {
    const { agreement } = computeAgreement([{ output: [70001, 5], reference: [70000, 5], exact: { name: 'ids' } }]);
    expect(agreement.max_abs_error).toBeLessThanOrEqual(agreement.tolerance);
    expect(agreement.within_tolerance).toBe(false);
  });
});

describe('ties in quantized and float16 outputs', () => {
  it('a top pick tied with the reference\'s is not a disagreement', () => {
    // int8-like outputs: the reference ties indices 1 and 3; the image is one step lower at 1
    const reference = Float32Array.from([0.1, 0.5, 0.2, 0.5, 0.3, 0.4, 0.0]);
    const output = Float32Array.from([0.1, 0.49, 0.2, 0.5, 0.3, 0.4, 0.0]);
    const { agreement } = computeAgreement([{ output, reference }], INT8_TOLERANCE_SCALE);
    expect(agreement.top5[0]).toBe(3);
    expect(agreement.reference_top5[0]).toBe(1);
    expect(agreement.top1_match).toBe(true);
    expect(agreement.top5_match).toBe(true);
  });
  it('a pick that is not tied still disagrees', () => {
    const reference = Float32Array.from([0.1, 0.5, 0.2, 0.45, 0.3, 0.4, 0.0]);
    const output = Float32Array.from([0.1, 0.44, 0.2, 0.5, 0.3, 0.4, 0.0]);
    expect(computeAgreement([{ output, reference }], INT8_TOLERANCE_SCALE).agreement.top1_match).toBe(false);
  });
  it('a fifth place tied in the reference is not a disagreement', () => {
    const reference = Float32Array.from([9, 8, 7, 6, 5, 5, 1]);
    const output = Float32Array.from([9, 8, 7, 6, 4.9, 5, 1]);
    expect(computeAgreement([{ output, reference }], INT8_TOLERANCE_SCALE).agreement.top5_match).toBe(true);
  });
});

describe('the int8 bar', () => {
  it('is never below one step of the outputs\' int8 grid', () => {
    // a softmax whose largest probability is 0.047 on a 1/256 grid: one step off is 3.9e-3, more than 5 % of 0.047
    const reference = Float32Array.from([12, 10, 9, 8].map(q => q / 256));
    const output = Float32Array.from([12, 11, 9, 8].map(q => q / 256));
    expect(computeAgreement([{ output, reference }], INT8_TOLERANCE_SCALE).agreement.within_tolerance).toBe(false);
    const floor = int8Floor([{ quantization_step: 1 / 256 }, {}]);
    expect(floor).toBeCloseTo(1 / 256, 7);
    expect(floor).toBeGreaterThan(1 / 256); // one step plus the slack of float32 rounding
    const { agreement } = computeAgreement([{ output, reference }], INT8_TOLERANCE_SCALE, floor);
    expect(agreement.within_tolerance).toBe(true);
    expect(agreement.tolerance).toBe(floor);
    // two steps are still a mismatch
    const twoOff = Float32Array.from([12, 12, 9, 8].map(q => q / 256));
    expect(computeAgreement([{ output: twoOff, reference }], INT8_TOLERANCE_SCALE, floor).agreement.within_tolerance).toBe(false);
  });
  it('keeps the relative bar when no output names a step', () => {
    expect(int8Floor([{}, {}])).toBe(0);
  });
});

describe('roundToFloat16', () => {
  it('rounds to float16 values, ties to even, beyond 65504 to infinity', () => {
    expect(roundToFloat16(1 / 3)).toBe(0.333251953125);
    expect(roundToFloat16(-1 / 3)).toBe(-0.333251953125);
    expect(roundToFloat16(1 + 2 ** -11)).toBe(1); // halfway between 1 and 1 + 2^-10: to even
    expect(roundToFloat16(1 + 3 * 2 ** -11)).toBe(1 + 2 ** -9);
    expect(roundToFloat16(65504)).toBe(65504);
    expect(roundToFloat16(65520)).toBe(Infinity);
    expect(roundToFloat16(2 ** -24)).toBe(2 ** -24); // the smallest subnormal
    expect(roundToFloat16(2 ** -26)).toBe(0);
    expect(roundToFloat16(0.5)).toBe(0.5);
    expect(roundToFloat16(Math.fround(0.1))).toBe(0.0999755859375);
  });
});
