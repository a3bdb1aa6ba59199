// Weight re-layout for the kernel that reads each weight (kernels.h says which layout).

import { WeightLayout } from './ir';
import { transposeData } from './shape';

export interface Packed {
  shape: number[];
  data: Float32Array;
  packing: string;
}

/** The (O, KH, KW, I/groups) sizes of a conv weight in any of its layouts. */
export function convWeightDims(shape: number[], layout: WeightLayout): { o: number; kh: number; kw: number; i: number } {
  switch (layout) {
    case 'OIHW':
      return { o: shape[0], i: shape[1], kh: shape[2], kw: shape[3] };
    case 'OHWI':
      return { o: shape[0], kh: shape[1], kw: shape[2], i: shape[3] };
    case '1HWO':
      return { o: shape[3], kh: shape[1], kw: shape[2], i: 1 };
  }
}

/** Axis of the output channel in a conv weight (what batch norm folding scales). */
export function outputChannelAxis(layout: WeightLayout): number {
  return layout === '1HWO' ? 3 : 0;
}

/** A conv weight as [OC][KH][KW][IC/groups] for es_conv2d_f32. */
export function packConv(data: Float32Array, shape: number[], layout: WeightLayout): Packed {
  const { o, kh, kw, i } = convWeightDims(shape, layout);
  switch (layout) {
    case 'OHWI':
      return { shape: [...shape], data, packing: 'OHWI as is' };
    case 'OIHW':
      return { shape: [o, kh, kw, i], data: transposeData(data, shape, [0, 2, 3, 1]), packing: 'OIHW→[OC][KH][KW][IC/groups]' };
    case '1HWO':
      return { shape: [o, kh, kw, 1], data: transposeData(data, [kh, kw, o], [2, 0, 1]), packing: '1HWO→[OC][KH][KW][1]' };
  }
}

/** A depthwise weight (channel multiplier 1) as [KH][KW][C]. */
export function packDepthwise(data: Float32Array, shape: number[], layout: WeightLayout): Packed {
  const { o: c, kh, kw } = convWeightDims(shape, layout);
  if (layout === '1HWO') return { shape: [kh, kw, c], data, packing: '1HWO as [KH][KW][C]' };
  return { shape: [kh, kw, c], data: transposeData(data, [c, kh, kw], [1, 2, 0]), packing: `${layout}→[KH][KW][C]` };
}

/** A 1x1 conv weight [O][I][1][1] (OIHW or OHWI) as the GEMM operand [K=I][N=O]. */
export function packPointwise(data: Float32Array, shape: number[]): Packed {
  const o = shape[0];
  const i = data.length / o;
  return { shape: [i, o], data: transposeData(data, [o, i], [1, 0]), packing: '1x1 conv→[K=IC][N=OC]' };
}

/** A linear weight [O][I] as the GEMM operand [K=I][N=O]. */
export function packLinear(data: Float32Array, shape: number[]): Packed {
  const [o, i] = shape;
  return { shape: [i, o], data: transposeData(data, [o, i], [1, 0]), packing: 'linear [O][I]→[K=I][N=O]' };
}
