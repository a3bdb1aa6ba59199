// Small rules shared by several op modules.

import { EdgespecError } from '../errors';
import { IrNode } from '../build/ir';
import { Shape4 } from '../build/schedule';
import { LayoutContext } from './opModule';

/** An NHWC shape as the kernels' es_shape4. */
export function toShape4(shape: number[]): Shape4 {
  const [n, h, w, c] = shape;
  return { n, h, w, c };
}

/** The output size of a sliding window along one dim (conv and pools). */
export function convOutputSize(size: number, k: number, stride: number, before: number, after: number, dilation: number, ceil: boolean): number {
  const span = size + before + after - dilation * (k - 1) - 1;
  return (ceil ? Math.ceil(span / stride) : Math.floor(span / stride)) + 1;
}

export const clampValue = (v: number, lo: number, hi: number) => (v < lo ? lo : v > hi ? hi : v);

/** Convolutions and pools read and write NHWC, and need a 4-D input. */
export function imageOpToNHWC(node: IrNode, r: LayoutContext): void {
  if (!r.is4d(node.inputs[0])) {
    throw new EdgespecError('unsupported-graph', `${node.op} ${node.name} (${node.module}) takes a ${r.tensor(node.inputs[0]).shape.length}-D input; it needs a 4-D image tensor`, 'only 2-D convolution and pooling over [N, C, H, W] are supported');
  }
  node.inputs[0] = r.want(node.inputs[0], 'NHWC', node.module);
  r.produce(node.outputs[0], 'NHWC');
}

/** An elementwise op of one input: its result keeps the input's layout. */
export function sameLayoutToNHWC(node: IrNode, r: LayoutContext): void {
  const x = node.inputs[0];
  if (!r.is4d(x)) return;
  const layout = r.agnosticLayout([x]);
  node.inputs[0] = r.want(x, layout, node.module);
  r.produce(node.outputs[0], layout);
}

/** Ops that act on the framework's row-major order of their 4-D inputs (reshape, linear, matmul). */
export function originalOrderToNHWC(node: IrNode, r: LayoutContext): void {
  node.inputs = node.inputs.map(t => (r.tensor(t).role === 'weight' ? t : r.inOriginalOrder(t, node.module)));
}

