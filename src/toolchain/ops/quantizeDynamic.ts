// quantize_dynamic: the run-time activation quantization of a dynamically quantized ("hybrid") model
// (ONNX DynamicQuantizeLinear, TFLite's hybrid FULLY_CONNECTED / CONV_2D / DEPTHWISE_CONV_2D), written back
// as the real values it rounds to, so that the float matmul or convolution after it computes what the
// framework's int32 accumulation does, up to float rounding. kernels/fp32/quantize_dynamic.c says the
// arithmetic of each scheme; the reference below is the same in float32 / double.

import { QuantizeDynamicNode, QuantizeDynamicScheme } from '../build/ir';
import { QuantizeDynamicStep } from '../build/schedule';
import { numel } from '../build/shape';
import { originalOrderToNHWC, sameLayoutToNHWC } from './common';
import { KernelModule, OpModule, OpRule } from './opModule';

const SCHEMES: readonly QuantizeDynamicScheme[] = ['uint8_asymmetric', 'int8_symmetric', 'int8_asymmetric'];

const quantizeDynamic: OpRule<QuantizeDynamicNode> = {
  kernels: ['quantize_dynamic'],
  toIr: (_node, a, base) => ({
    ...base, op: 'quantize_dynamic', attrs: { scheme: a.oneOf('scheme', SCHEMES, 'uint8_asymmetric'), axis: a.int('axis', 0) }
  }),
  // one range per slice before `axis`: the whole tensor or each batch item keeps any memory layout
  toNHWC: (node, r) => (node.attrs.axis <= 1 ? sameLayoutToNHWC(node, r) : originalOrderToNHWC(node, r)),
  select(node, s) {
    const [x] = node.inputs;
    const [y] = node.outputs;
    const shape = s.tensor(x).shape;
    const rows = shape.slice(0, node.attrs.axis).reduce((p, d) => p * d, 1);
    s.push({ kernel: 'quantize_dynamic', reads: [s.act(x)], writes: [s.act(y)], inPlace: [x],
      args: { x, y, rows, cols: numel(shape) / rows, scheme: SCHEMES.indexOf(node.attrs.scheme) } }, node);
  }
};

const f = Math.fround;
const roundAway = (v: number) => (v >= 0 ? Math.floor(v + 0.5) : -Math.floor(-v + 0.5));
const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);

function roundHalfEven(v: number): number {
  const r = Math.floor(v + 0.5);
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** One row as the scheme rounds it (kernels/fp32/quantize_dynamic.c). */
export function quantizeDynamicRow(x: Float32Array, y: Float32Array, scheme: number): void {
  let mn = x[0], mx = x[0];
  for (const v of x) { mn = Math.min(mn, v); mx = Math.max(mx, v); }
  if (scheme === 1) {
    const range = Math.max(Math.abs(mn), Math.abs(mx));
    if (range === 0) { y.fill(0); return; }
    const scale = f(range / 127), inverse = f(127 / range);
    x.forEach((v, i) => { y[i] = f(clamp(roundAway(f(v * inverse)), -127, 127) * scale); });
    return;
  }
  mn = Math.min(mn, 0);
  mx = Math.max(mx, 0);
  if (scheme === 0) {
    const scale = mx === mn ? 1 : f(f(mx - mn) / 255);
    const zero = roundHalfEven(clamp(f(0 - f(mn / scale)), 0, 255));
    x.forEach((v, i) => { y[i] = f((clamp(roundHalfEven(f(v / scale)) + zero, 0, 255) - zero) * scale); });
    return;
  }
  if (mn === mx) { y.fill(0); return; }
  const scaleD = (mx - mn) / 255;
  const fromMin = -128 - mn / scaleD, fromMax = 127 - mx / scaleD;
  const zeroD = 128 + Math.abs(mn / scaleD) < 127 + Math.abs(mx / scaleD) ? fromMin : fromMax;
  const zero = zeroD <= -128 ? -128 : zeroD >= 127 ? 127 : roundAway(zeroD);
  const scale = f(scaleD), inverse = f(1 / scale);
  x.forEach((v, i) => { y[i] = f((clamp(roundAway(f(v * inverse)) + zero, -128, 127) - zero) * scale); });
}

const quantizeDynamicKernel: KernelModule<QuantizeDynamicStep> = {
  call: (step, p, fn) => `${fn}(${p.read(step.args.x)}, ${p.write(step.args.y)}, ${step.args.rows}, ${step.args.cols}, ${step.args.scheme})`,
  reference(step, get) {
    const { rows, cols, scheme } = step.args;
    const x = get(step.args.x);
    const y = new Float32Array(x.length);
    for (let r = 0; r < rows; r++) quantizeDynamicRow(x.subarray(r * cols, (r + 1) * cols), y.subarray(r * cols, (r + 1) * cols), scheme);
    return [y];
  }
};

export const quantizeDynamicModule: OpModule = { ops: { quantize_dynamic: quantizeDynamic }, kernels: { quantize_dynamic: quantizeDynamicKernel } };
