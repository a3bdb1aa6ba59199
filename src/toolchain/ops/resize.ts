// resize over NHWC images: nearest or bilinear, with ONNX Resize's coordinate transformations
// (which also cover PyTorch's upsample and TFLite's RESIZE_* options).

import { NearestMode, ResizeCoordinates, ResizeNode } from '../build/ir';
import { ResizeStep } from '../build/schedule';
import { floatLiteral, shape4 } from './cText';
import { imageOpToNHWC, toShape4 } from './common';
import { Int8Context, KernelModule, OpModule, OpRule } from './opModule';

const COORDINATES = ['half_pixel', 'pytorch_half_pixel', 'align_corners', 'asymmetric', 'tf_half_pixel_for_nn'] as const;
const NEAREST_MODES = ['round_prefer_floor', 'round_prefer_ceil', 'floor', 'ceil'] as const;

/**
 * Source coordinate = (i + offsetIn) * inv - offsetOut along one axis, in float32 as the frameworks compute
 * it; with a given scale, (i + offsetIn) / scale - offsetOut (divide), as ONNX divides by its scales.
 */
export function axisMapping(inSize: number, outSize: number, scale: number | null, coordinates: ResizeCoordinates) {
  const inv = Math.fround(scale === null ? inSize / outSize : scale);
  // pytorch_half_pixel samples index 0 for an output of one: a source of -0.5 clamps (or rounds) to it,
  // with the same offsets as the other axis (a zero step, or an infinite ratio to divide by)
  const zeroStep = scale === null ? 0 : Infinity;
  switch (coordinates) {
    case 'align_corners':
      return { inv: outSize > 1 ? Math.fround((inSize - 1) / (outSize - 1)) : 0, offsetIn: 0, offsetOut: 0 };
    case 'asymmetric':
      return { inv, offsetIn: 0, offsetOut: 0 };
    case 'tf_half_pixel_for_nn':
      return { inv, offsetIn: 0.5, offsetOut: 0 };
    case 'pytorch_half_pixel':
      return { inv: outSize > 1 ? inv : zeroStep, offsetIn: 0.5, offsetOut: 0.5 };
    case 'half_pixel':
      return { inv, offsetIn: 0.5, offsetOut: 0.5 };
  }
}

const resize: OpRule<ResizeNode> = {
  kernels: ['resize_nearest', 'resize_bilinear'],
  toIr: (node, a, base) => {
    const scale = node.attrs?.scale as [number, number] | null | undefined;
    return {
      ...base, op: 'resize',
      attrs: {
        size: a.pair('size'), mode: a.oneOf('mode', ['nearest', 'bilinear'] as const, 'nearest'),
        coordinates: a.oneOf('coordinate_transformation', COORDINATES, 'half_pixel'),
        nearestMode: a.oneOf('nearest_mode', NEAREST_MODES, 'round_prefer_floor'),
        scale: scale ? [scale[0], scale[1]] : null
      }
    };
  },
  toNHWC: imageOpToNHWC,
  select(node, s) {
    const [x] = node.inputs;
    const [y] = node.outputs;
    const is = toShape4(s.tensor(x).shape);
    s.expect(node, 'output', s.tensor(y).shape, [is.n, node.attrs.size[0], node.attrs.size[1], is.c]);
    const os = toShape4(s.tensor(y).shape);
    const { mode, coordinates, nearestMode, scale } = node.attrs;
    const divide = scale !== null && coordinates !== 'align_corners';
    const h = axisMapping(is.h, os.h, scale ? scale[0] : null, coordinates);
    const w = axisMapping(is.w, os.w, scale ? scale[1] : null, coordinates);
    s.push({
      kernel: mode === 'nearest' ? 'resize_nearest' : 'resize_bilinear', reads: [s.act(x)], writes: [s.act(y)], inPlace: [],
      args: { x, y, is, os, invH: h.inv, invW: w.inv, offsetIn: h.offsetIn, offsetOut: h.offsetOut, nearestMode: NEAREST_MODES.indexOf(nearestMode as NearestMode), divide,
        corners: coordinates === 'align_corners' }
    }, node);
  }
};

function nearestIndex(v: number, mode: number, size: number): number {
  const i = mode === 0 ? Math.ceil(v - 0.5) : mode === 1 ? Math.floor(v + 0.5) : mode === 2 ? Math.floor(v) : Math.ceil(v);
  return Math.min(Math.max(i, 0), size - 1);
}

/** The reference, NHWC. */
function resample(x: Float32Array, a: ResizeStep['args'], bilinear: boolean): Float32Array {
  const { is, os } = a;
  const y = new Float32Array(os.n * os.h * os.w * os.c);
  const at = (n: number, iy: number, ix: number, c: number) => x[((n * is.h + iy) * is.w + ix) * is.c + c];
  for (let n = 0; n < os.n; n++) for (let oy = 0; oy < os.h; oy++) for (let ox = 0; ox < os.w; ox++) {
    const sy = (a.divide ? (oy + a.offsetIn) / a.invH : (oy + a.offsetIn) * a.invH) - a.offsetOut;
    const sx = (a.divide ? (ox + a.offsetIn) / a.invW : (ox + a.offsetIn) * a.invW) - a.offsetOut;
    for (let c = 0; c < os.c; c++) {
      let v: number;
      if (!bilinear) {
        v = at(n, nearestIndex(sy, a.nearestMode, is.h), nearestIndex(sx, a.nearestMode, is.w), c);
      } else {
        const cy = Math.min(Math.max(sy, 0), is.h - 1), cx = Math.min(Math.max(sx, 0), is.w - 1);
        const y0 = Math.floor(cy), x0 = Math.floor(cx);
        const y1 = Math.min(y0 + 1, is.h - 1), x1 = Math.min(x0 + 1, is.w - 1);
        const fy = cy - y0, fx = cx - x0;
        v = (1 - fy) * ((1 - fx) * at(n, y0, x0, c) + fx * at(n, y0, x1, c)) + fy * ((1 - fx) * at(n, y1, x0, c) + fx * at(n, y1, x1, c));
      }
      y[((n * os.h + oy) * os.w + ox) * os.c + c] = v;
    }
  }
  return y;
}

const callArgs = (a: ResizeStep['args']) => `${floatLiteral(a.invH)}, ${floatLiteral(a.invW)}, ${floatLiteral(a.offsetIn)}, ${floatLiteral(a.offsetOut)}`;

/** Nearest picks codes: int8 keeps the input's parameters (TFLite's RESIZE_NEAREST_NEIGHBOR is a copy). */
function lowerNearest(step: ResizeStep, q: Int8Context): void {
  const a = step.args;
  if (q.given && !q.sameGivenParams(a.x, a.y)) return q.fallback(step);
  const x = q.as(a.x, 's8', step.from);
  const p = q.paramsOf(x);
  q.outputS8(a.y, p, y => q.push({
    kernel: 'resize_nearest_s8', from: step.from, op: step.op, reads: [x], writes: [y], inPlace: [],
    call: ptr => `es_resize_nearest_s8(${ptr.read(x)}, ${shape4(a.is)}, ${ptr.write(y)}, ${shape4(a.os)}, ${callArgs(a)}, ${a.nearestMode}, ${a.divide ? 1 : 0})`
  }), step.from);
}

const nearestKernel: KernelModule<ResizeStep> = {
  call: (step, p, fn) => {
    const a = step.args;
    return `${fn}(${p.read(a.x)}, ${shape4(a.is)}, ${p.write(a.y)}, ${shape4(a.os)}, ${callArgs(a)}, ${a.nearestMode}, ${a.divide ? 1 : 0})`;
  },
  int8: lowerNearest,
  reference: (step, get) => [resample(get(step.args.x), step.args, false)]
};

/** TFLite's 10-bit fixed-point source step of RESIZE_BILINEAR (its int8 kernel), from the sizes. */
function scale10(inSize: number, outSize: number, corners: boolean): number {
  return corners && outSize > 1
    ? Math.floor(((1 << 10) * (inSize - 1) + Math.floor((outSize - 1) / 2)) / (outSize - 1))
    : Math.floor(((1 << 10) * inSize + Math.floor(outSize / 2)) / outSize);
}

/**
 * int8 bilinear as TFLite's RESIZE_BILINEAR: codes blended in 10-bit fixed point, the output at the
 * input's parameters. Only its mappings (half_pixel, asymmetric, align_corners, from the sizes) run
 * in int8; a given scale or another mapping stays fp32.
 */
function lowerBilinear(step: ResizeStep, q: Int8Context): void {
  const a = step.args;
  const halfPixel = a.offsetIn === 0.5 && a.offsetOut === 0.5;
  const plain = a.offsetIn === 0 && a.offsetOut === 0;
  if (a.divide || !(halfPixel || plain) || a.invH === 0 || a.invW === 0) return q.fallback(step);
  if (q.given && !q.sameGivenParams(a.x, a.y)) return q.fallback(step);
  const x = q.as(a.x, 's8', step.from);
  const sh = scale10(a.is.h, a.os.h, a.corners), sw = scale10(a.is.w, a.os.w, a.corners);
  q.outputS8(a.y, q.paramsOf(x), y => q.push({
    kernel: 'resize_bilinear_s8', from: step.from, op: step.op, reads: [x], writes: [y], inPlace: [],
    call: ptr => `es_resize_bilinear_s8(${ptr.read(x)}, ${shape4(a.is)}, ${ptr.write(y)}, ${shape4(a.os)}, ${sh}, ${sw}, ${halfPixel ? 1 : 0})`
  }), step.from);
}

const bilinearKernel: KernelModule<ResizeStep> = {
  call: (step, p, fn) => {
    const a = step.args;
    return `${fn}(${p.read(a.x)}, ${shape4(a.is)}, ${p.write(a.y)}, ${shape4(a.os)}, ${callArgs(a)}, ${a.divide ? 1 : 0})`;
  },
  int8: lowerBilinear,
  reference: (step, get) => [resample(get(step.args.x), step.args, true)]
};

export const resizeModule: OpModule = {
  ops: { resize },
  kernels: { resize_nearest: nearestKernel, resize_bilinear: bilinearKernel }
};
