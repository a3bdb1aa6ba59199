// Small hand-made models covering the op vocabulary, for the pass tests and the host builds.
import { BuiltGraph, GraphBuilder } from './graphBuilder';

const positive = (seed: number) => (i: number) => 0.5 + ((i * 7919 + seed) % 100) / 100;

function batchNorm(b: GraphBuilder, x: string, channels: number, shape: number[], module: string, layout: 'NCHW' | 'NHWC' = 'NCHW'): string {
  const w = b.weight(`${module}.weight`, [channels], module);
  const bias = b.weight(`${module}.bias`, [channels], module);
  const mean = b.weight(`${module}.running_mean`, [channels], module);
  const variance = b.weight(`${module}.running_var`, [channels], module, positive(channels));
  return b.node('batch_norm', [x, w, bias, mean, variance], shape, { eps: 1e-5 }, module, ['aten._native_batch_norm_legit_no_training.default'], layout);
}

/** conv → bn → relu, pointwise, depthwise with relu6, global mean, linear. */
export function convBnRelu(): BuiltGraph {
  const b = new GraphBuilder('conv_bn_relu', 11);
  const x = b.input('x', [1, 3, 9, 9]);
  let t = b.node('conv2d', [x, b.weight('c1.weight', [6, 3, 3, 3], 'c1'), b.weight('c1.bias', [6], 'c1')], [1, 6, 9, 9], { stride: [1, 1], padding: [1, 1, 1, 1], dilation: [1, 1], groups: 1 }, 'c1', ['aten.convolution.default']);
  t = batchNorm(b, t, 6, [1, 6, 9, 9], 'bn1');
  t = b.node('relu', [t], [1, 6, 9, 9], {}, 'act1', ['aten.relu.default']);
  t = b.node('conv2d', [t, b.weight('pw.weight', [16, 6, 1, 1], 'pw')], [1, 16, 9, 9], { stride: [1, 1], padding: [0, 0, 0, 0], dilation: [1, 1], groups: 1 }, 'pw');
  t = batchNorm(b, t, 16, [1, 16, 9, 9], 'bn2');
  t = b.node('clamp', [t], [1, 16, 9, 9], { min: 0, max: 6 }, 'act2', ['aten.hardtanh.default']);
  t = b.node('conv2d', [t, b.weight('dw.weight', [16, 1, 3, 3], 'dw')], [1, 16, 5, 5], { stride: [2, 2], padding: [1, 1, 1, 1], dilation: [1, 1], groups: 16 }, 'dw');
  t = batchNorm(b, t, 16, [1, 16, 5, 5], 'bn3');
  t = b.node('clamp', [t], [1, 16, 5, 5], { min: 0, max: 6 }, 'act3');
  t = b.node('mean', [t], [1, 16], { axes: [2, 3], keepdim: false }, 'pool');
  t = b.node('linear', [t, b.weight('fc.weight', [5, 16], 'fc'), b.weight('fc.bias', [5], 'fc')], [1, 5], {}, 'fc', ['aten.addmm.default']);
  b.output(t, 'logits');
  return b.build();
}

/** A residual block, max and average pooling, flatten, linear, softmax. */
export function residual(): BuiltGraph {
  const b = new GraphBuilder('residual', 12);
  const x = b.input('x', [1, 4, 8, 8]);
  let t = b.node('conv2d', [x, b.weight('a.weight', [4, 4, 3, 3], 'a')], [1, 4, 8, 8], { stride: [1, 1], padding: [1, 1, 1, 1], dilation: [1, 1], groups: 1 }, 'a');
  t = batchNorm(b, t, 4, [1, 4, 8, 8], 'a_bn');
  t = b.node('relu', [t], [1, 4, 8, 8], {}, 'a_relu');
  t = b.node('conv2d', [t, b.weight('b.weight', [4, 4, 3, 3], 'b'), b.weight('b.bias', [4], 'b')], [1, 4, 8, 8], { stride: [1, 1], padding: [1, 1, 1, 1], dilation: [1, 1], groups: 1 }, 'b');
  t = b.node('add', [t, x], [1, 4, 8, 8], {}, 'skip', ['aten.add.Tensor']);
  t = b.node('relu', [t], [1, 4, 8, 8], {}, 'skip_relu');
  t = b.node('max_pool2d', [t], [1, 4, 4, 4], { kernel: [3, 3], stride: [2, 2], padding: [1, 1, 1, 1], dilation: [1, 1], ceil_mode: false }, 'maxpool');
  t = b.node('avg_pool2d', [t], [1, 4, 2, 2], { kernel: [2, 2], stride: [2, 2], padding: [0, 0, 0, 0], ceil_mode: false, count_include_pad: true, divisor_override: null }, 'avgpool');
  t = b.node('reshape', [t], [1, 16], { shape: [1, 16] }, 'flatten', ['aten.view.default']);
  t = b.node('linear', [t, b.weight('fc.weight', [10, 16], 'fc'), b.weight('fc.bias', [10], 'fc')], [1, 10], {}, 'fc');
  t = b.node('softmax', [t], [1, 10], { axis: 1 }, 'softmax');
  b.output(t, 'probs');
  return b.build();
}

/** ShuffleNet's channel split, concat and channel shuffle; a 4-D output in NCHW. */
export function channelShuffle(): BuiltGraph {
  const b = new GraphBuilder('channel_shuffle', 13);
  const x = b.input('x', [1, 8, 5, 5]);
  const t = b.node('conv2d', [x, b.weight('in.weight', [8, 8, 1, 1], 'in'), b.weight('in.bias', [8], 'in')], [1, 8, 5, 5], { stride: [1, 1], padding: [0, 0, 0, 0], dilation: [1, 1], groups: 1 }, 'in');
  const [left, right] = b.nodeMulti('split', [t], [[1, 4, 5, 5], [1, 4, 5, 5]], { axis: 1, sizes: [4, 4] }, 'split', ['aten.split_with_sizes.default']);
  let r = b.node('conv2d', [right, b.weight('dw.weight', [4, 1, 3, 3], 'branch.dw')], [1, 4, 5, 5], { stride: [1, 1], padding: [1, 1, 1, 1], dilation: [1, 1], groups: 4 }, 'branch.dw');
  r = b.node('relu', [r], [1, 4, 5, 5], {}, 'branch.relu');
  let c = b.node('concat', [left, r], [1, 8, 5, 5], { axis: 1 }, 'cat', ['aten.cat.default']);
  c = b.node('reshape', [c], [1, 2, 4, 5, 5], { shape: [1, 2, 4, 5, 5] }, 'shuffle');
  c = b.node('transpose', [c], [1, 4, 2, 5, 5], { perm: [0, 2, 1, 3, 4] }, 'shuffle', ['aten.permute.default']);
  c = b.node('reshape', [c], [1, 8, 5, 5], { shape: [1, 8, 5, 5] }, 'shuffle');
  c = b.node('conv2d', [c, b.weight('out.weight', [6, 8, 1, 1], 'out')], [1, 6, 5, 5], { stride: [1, 1], padding: [0, 0, 0, 0], dilation: [1, 1], groups: 1 }, 'out');
  b.output(c, 'features');
  return b.build();
}

/** Squeeze-and-excitation with hardswish/hardsigmoid, broadcast multiply, scalar ops and pad. */
export function squeezeExcite(): BuiltGraph {
  const b = new GraphBuilder('squeeze_excite', 14);
  const x = b.input('x', [1, 6, 6, 6]);
  let t = b.node('conv2d', [x, b.weight('c.weight', [8, 6, 3, 3], 'c'), b.weight('c.bias', [8], 'c')], [1, 8, 6, 6], { stride: [1, 1], padding: [1, 1, 1, 1], dilation: [1, 1], groups: 1 }, 'c');
  t = b.node('hardswish', [t], [1, 8, 6, 6], {}, 'c_act');
  let s = b.node('mean', [t], [1, 8, 1, 1], { axes: [2, 3], keepdim: true }, 'se.pool');
  s = b.node('conv2d', [s, b.weight('se.fc1.weight', [4, 8, 1, 1], 'se.fc1'), b.weight('se.fc1.bias', [4], 'se.fc1')], [1, 4, 1, 1], { stride: [1, 1], padding: [0, 0, 0, 0], dilation: [1, 1], groups: 1 }, 'se.fc1');
  s = b.node('relu', [s], [1, 4, 1, 1], {}, 'se.relu');
  s = b.node('conv2d', [s, b.weight('se.fc2.weight', [8, 4, 1, 1], 'se.fc2'), b.weight('se.fc2.bias', [8], 'se.fc2')], [1, 8, 1, 1], { stride: [1, 1], padding: [0, 0, 0, 0], dilation: [1, 1], groups: 1 }, 'se.fc2');
  s = b.node('hardsigmoid', [s], [1, 8, 1, 1], {}, 'se.gate');
  t = b.node('mul', [t, s], [1, 8, 6, 6], {}, 'se.scale', ['aten.mul.Tensor']);
  t = b.node('add', [t], [1, 8, 6, 6], { scalar: 0.5 }, 'shift', ['aten.add.Scalar']);
  t = b.node('div', [t], [1, 8, 6, 6], { scalar: 3 }, 'scale', ['aten.div.Scalar']);
  t = b.node('add', [t, b.weight('bias3d', [8, 1, 1], 'bias3d')], [1, 8, 6, 6], {}, 'bias3d');
  t = b.node('pad', [t], [1, 8, 7, 9], { pads: [[0, 0], [0, 0], [1, 0], [1, 2]], value: 0.25 }, 'pad', ['aten.constant_pad_nd.default']);
  b.output(t, 'y');
  return b.build();
}

/** Grouped and dilated convolution, ceil-mode pooling without padding counts, adaptive pooling, activations. */
export function oddConvs(): BuiltGraph {
  const b = new GraphBuilder('odd_convs', 15);
  const x = b.input('x', [1, 4, 11, 11]);
  let t = b.node('conv2d', [x, b.weight('g.weight', [6, 2, 3, 3], 'g')], [1, 6, 7, 7], { stride: [1, 1], padding: [0, 0, 0, 0], dilation: [2, 2], groups: 2 }, 'g');
  t = b.node('sigmoid', [t], [1, 6, 7, 7], {}, 'sig');
  t = b.node('avg_pool2d', [t], [1, 6, 4, 4], { kernel: [3, 3], stride: [2, 2], padding: [1, 1, 1, 1], ceil_mode: true, count_include_pad: false, divisor_override: null }, 'avg');
  t = b.node('conv2d', [t, b.weight('s.weight', [4, 6, 1, 1], 's')], [1, 4, 2, 2], { stride: [2, 2], padding: [0, 0, 0, 0], dilation: [1, 1], groups: 1 }, 's');
  t = b.node('silu', [t], [1, 4, 2, 2], {}, 'silu');
  const u = b.node('adaptive_avg_pool2d', [x], [1, 4, 2, 2], { output_size: [2, 2] }, 'adaptive');
  t = b.node('sub', [t, u], [1, 4, 2, 2], {}, 'diff', ['aten.sub.Tensor']);
  t = b.node('tanh', [t], [1, 4, 2, 2], {}, 'tanh');
  t = b.node('max_pool2d', [t], [1, 4, 1, 1], { kernel: [2, 2], stride: [2, 2], padding: [0, 0, 0, 0], dilation: [1, 1], ceil_mode: true }, 'mp');
  t = b.node('reshape', [t], [1, 4], { shape: [1, 4] }, 'flatten');
  t = b.node('gelu', [t], [1, 4], { approximate: 'none' }, 'gelu');
  b.output(t, 'out');
  return b.build();
}

/** Non-image tensors: matmul of two activations, transposes, batch norm on [N, C], two outputs. */
export function sequence(): BuiltGraph {
  const b = new GraphBuilder('sequence', 16);
  const x = b.input('x', [2, 3, 4], 'ANY');
  const xt = b.node('transpose', [x], [2, 4, 3], { perm: [0, 2, 1] }, 'kT');
  const scores = b.node('matmul', [x, xt], [2, 3, 3], {}, 'attn', ['aten.bmm.default']);
  const probs = b.node('softmax', [scores], [2, 3, 3], { axis: 2 }, 'attn.softmax');
  let v = b.node('matmul', [probs, x], [2, 3, 4], {}, 'attn.v');
  v = b.node('reshape', [v], [6, 4], { shape: [6, 4] }, 'rows');
  v = b.node('linear', [v, b.weight('proj.weight', [5, 4], 'proj')], [6, 5], {}, 'proj');
  v = batchNorm(b, v, 5, [6, 5], 'norm');
  const w = b.node('mul', [v, v], [6, 5], {}, 'square');
  b.output(v, 'normed');
  b.output(w, 'squared');
  return b.build();
}

/** A TFLite-style graph: NHWC tensors, OHWI and 1HWO weights, fused activations, axes in NHWC. */
export function tfliteStyle(): BuiltGraph {
  const b = new GraphBuilder('tflite_style', 17, 'tflite');
  const x = b.input('x', [1, 7, 7, 3], 'NHWC');
  let t = b.node('conv2d', [x, b.weight('c.w', [8, 3, 3, 3], 'c'), b.weight('c.b', [8], 'c')], [1, 4, 4, 8], { stride: [2, 2], padding: [1, 1, 1, 1], groups: 1, weight_layout: 'OHWI', activation: 'relu6' }, 'c', ['tflite.CONV_2D'], 'NHWC');
  t = b.node('conv2d', [t, b.weight('dw.w', [1, 3, 3, 8], 'dw'), b.weight('dw.b', [8], 'dw')], [1, 4, 4, 8], { stride: [1, 1], padding: [1, 1, 1, 1], groups: 8, weight_layout: '1HWO', activation: 'relu' }, 'dw', ['tflite.DEPTHWISE_CONV_2D'], 'NHWC');
  const m = b.node('conv2d', [t, b.weight('dm.w', [1, 3, 3, 16], 'dm')], [1, 2, 2, 16], { stride: [2, 2], padding: [1, 1, 0, 0], groups: 8, weight_layout: '1HWO' }, 'dm', ['tflite.DEPTHWISE_CONV_2D'], 'NHWC');
  const bn = batchNorm(b, m, 16, [1, 2, 2, 16], 'bn', 'NHWC');
  const c = b.node('concat', [bn, b.node('max_pool2d', [t], [1, 2, 2, 8], { kernel: [2, 2], stride: [2, 2], padding: [0, 0, 0, 0] }, 'mp', ['tflite.MAX_POOL_2D'], 'NHWC')], [1, 2, 2, 24], { axis: 3 }, 'cat', ['tflite.CONCATENATION'], 'NHWC');
  const f = b.node('reshape', [c], [1, 96], { shape: [1, 96] }, 'flat', ['tflite.RESHAPE']);
  b.output(b.node('linear', [f, b.weight('fc.w', [5, 96], 'fc'), b.weight('fc.b', [5], 'fc')], [1, 5], { activation: 'relu' }, 'fc', ['tflite.FULLY_CONNECTED']), 'y');
  return b.build();
}

export const SMALL_GRAPHS: Record<string, () => BuiltGraph> = { convBnRelu, residual, channelShuffle, squeezeExcite, oddConvs, sequence, tfliteStyle };
