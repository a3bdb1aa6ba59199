import { TOLERANCE_SCALE } from '../run/agreement';

/**
 * The bar each layer is held to.
 * - fp32 images: max |image - framework| <= 1e-4 x max |framework| of that tensor, the bar
 *   of the whole output (DESIGN.md "Numbers"), here per layer.
 * - int8 images of a model with its own quantization (an int8 .tflite): the framework's
 *   tensors are integers with the same scales, and edgespec's kernels round as TFLite's
 *   reference kernels do: at most one quantization step apart.
 * - int8 images that edgespec quantized (against the fp32 framework): quantization noise
 *   grows with depth, so the bar is relative to the tensor's range: max error <= 15 % of
 *   max |framework|. A wrong requantization (a factor of 2) or a lost bias is well beyond it.
 */
export type TolerancePolicy = 'float32' | 'int8-given' | 'int8-calibrated';

export const GIVEN_INT8_STEPS = 1;
export const CALIBRATED_INT8_RELATIVE = 0.15;

export function toleranceOf(policy: TolerancePolicy): { tolerance: number; unit: 'relative' | 'quant_steps' } {
  if (policy === 'int8-given') return { tolerance: GIVEN_INT8_STEPS, unit: 'quant_steps' };
  return { tolerance: policy === 'float32' ? TOLERANCE_SCALE : CALIBRATED_INT8_RELATIVE, unit: 'relative' };
}

export function describeTolerance(policy: TolerancePolicy): string {
  if (policy === 'float32') return `fp32: each layer's max |image - framework| <= ${TOLERANCE_SCALE} x max |framework| of that tensor`;
  if (policy === 'int8-given') return `int8 with the model's own quantization: each layer within ${GIVEN_INT8_STEPS} quantization step of the framework's integers (TFLite reference kernels)`;
  return `int8 quantized by edgespec, against the fp32 framework: each layer's max error <= ${CALIBRATED_INT8_RELATIVE} x max |framework|; quant_steps shows the error in steps of the layer's own scale`;
}
