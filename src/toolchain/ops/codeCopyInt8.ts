// The int8 lowering of the ops that only move bytes (slice, reverse, transpose, split, copy): one
// es_strided_copy_s8 per output. Codes are copied as they are. An int8 .tflite may give the output
// other parameters than the input (the converter does for REVERSE_V2): TFLite's byte movers copy the
// codes all the same, and the output is read in its own parameters, so the image does that too.

import { Provenance } from '../build/ir';
import { numel } from '../build/shape';
import { ints } from './cText';
import { Int8Context } from './opModule';

export const MAX_STRIDED_RANK = 8;

/** Drops size-1 dims and merges neighbours that walk memory as one dim. */
export function simplifyWalk(shape: number[], strides: number[]): { shape: number[]; strides: number[] } {
  const out: { size: number; stride: number }[] = [];
  shape.forEach((size, d) => {
    if (size === 1) return;
    const prev = out[out.length - 1];
    if (prev && prev.stride === strides[d] * size) {
      prev.size *= size;
      prev.stride = strides[d];
    } else {
      out.push({ size, stride: strides[d] });
    }
  });
  if (out.length === 0) out.push({ size: 1, stride: 1 });
  return { shape: out.map(o => o.size), strides: out.map(o => o.stride) };
}

/** The strides of a dense row-major tensor of `shape`. */
export const rowMajorStrides = (shape: number[]) => shape.map((_, d) => numel(shape.slice(d + 1)));

/**
 * Can `x` be copied into `ys` as int8 codes? Not a constant (it stays in the fp32 weights), nor, with a
 * model's own quantization, a tensor the model does not hold in int8 (an index tensor), nor a move the
 * model makes in float between its own DEQUANTIZE and QUANTIZE to other parameters (that one rounds).
 */
export function copiesAsCodes(q: Int8Context, x: string, ys: string[]): boolean {
  if (q.fpWeights.has(x)) return false;
  const given = q.given;
  if (!given) return true;
  if (q.dtypeOf(x) !== 's8' && !given.activations.has(x)) return false;
  const px = given.activations.get(x);
  const requantized = (y: string) => {
    const py = given.activations.get(y);
    return px !== undefined && py !== undefined && (px.scale !== py.scale || px.zp !== py.zp);
  };
  const island = given.floatIsland;
  return !(island && (island.dequantized.has(x) || ys.some(y => island.quantized.has(y))) && ys.some(requantized));
}

/** y[k] = x[offset + sum_d i_d * strides[d]] over `shape` (y's elements in order), on int8 codes. */
export function lowerCodeCopy(q: Int8Context, from: Provenance, op: string, x: string, y: string, shape: number[], strides: number[], offset: number): void {
  const walk = simplifyWalk(shape, strides);
  const xs8 = q.as(x, 's8', from);
  const pin = q.paramsOf(xs8);
  const pout = q.given?.activations.get(y) ?? pin;
  q.outputS8(y, pout, target => q.push({
    kernel: 'strided_copy_s8', from, op, reads: [xs8], writes: [target], inPlace: [],
    call: ptr => `es_strided_copy_s8(${ptr.read(xs8)}, ${ptr.write(target)}, ${walk.shape.length}, ${ints(walk.shape)}, ${ints(walk.strides)}, ${offset})`
  }), from);
}
