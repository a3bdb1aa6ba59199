/** max |a - b| over the elements, and whether the largest elements sit at the same index (top-1). */
export function compareOutputs(output: ArrayLike<number>, reference: ArrayLike<number>): { max_abs_error: number; top1_match: boolean } {
  if (output.length !== reference.length) throw new Error(`output has ${output.length} values, the reference ${reference.length}`);
  let maxAbs = 0;
  let topOut = 0;
  let topRef = 0;
  for (let i = 0; i < output.length; i++) {
    maxAbs = Math.max(maxAbs, Math.abs(output[i] - reference[i]));
    if (output[i] > output[topOut]) topOut = i;
    if (reference[i] > reference[topRef]) topRef = i;
  }
  return { max_abs_error: maxAbs, top1_match: topOut === topRef };
}
