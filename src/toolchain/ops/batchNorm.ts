// batch_norm: folded into the producing conv2d/linear by passes/foldBatchNorm.ts, or else
// made a scale_shift (a per-channel affine over the innermost axis).

import { BatchNormNode, ScaleShiftNode } from '../build/ir';
import { ScaleShiftStep } from '../build/schedule';
import { numel } from '../build/shape';
import { act } from './cText';
import { clampValue } from './common';
import { KernelModule, NotSupported, OpModule, OpRule } from './opModule';

const batchNorm: OpRule<BatchNormNode> = {
  /** Folded into conv2d / linear where it can be (their kernels), else a scale_shift. */
  kernels: ['scale_shift'],
  toIr: (_node, a, base) => ({ ...base, op: 'batch_norm', attrs: { eps: a.number('eps', 1e-5) } }),
  toNHWC: () => {
    throw new Error('internal: toNHWC runs after foldBatchNorm');
  },
  select: () => {
    throw new Error('internal: batch_norm reaches kernel selection; run foldBatchNorm first');
  }
};

const scaleShift: OpRule<ScaleShiftNode> = {
  kernels: ['scale_shift'],
  toNHWC(node, r) {
    const x = node.inputs[0];
    if (r.is4d(x)) {
      const axis = r.memoryAxis(x, node.attrs.axis, 'NHWC');
      node.inputs[0] = r.want(x, 'NHWC', node.module);
      node.attrs = { ...node.attrs, axis };
      r.produce(node.outputs[0], 'NHWC');
    }
  },
  select(node, s) {
    const [x, scale, shift] = node.inputs;
    const [y] = node.outputs;
    const shape = s.tensor(x).shape;
    if (node.attrs.axis !== shape.length - 1) {
      throw new NotSupported(`batch norm over axis ${node.attrs.axis} of a ${shape.length}-D tensor cannot be folded, and the unfolded kernel needs channels innermost`);
    }
    const channels = shape[shape.length - 1];
    s.push({
      kernel: 'scale_shift', reads: [s.act(x), s.weight(scale), s.weight(shift)], writes: [s.act(y)], inPlace: [x],
      args: { x, scale: s.weight(scale), shift: s.weight(shift), y, rows: numel(shape) / channels, channels, act: node.attrs.activation }
    }, node);
  }
};

const scaleShiftKernel: KernelModule<ScaleShiftStep> = {
  call: (step, p, fn) => {
    const a = step.args;
    return `${fn}(${p.read(a.x)}, ${p.read(a.scale)}, ${p.read(a.shift)}, ${p.write(a.y)}, ${a.rows}, ${a.channels}, ${act(a.act)})`;
  },
  reference(step, get, w) {
    const a = step.args;
    const x = get(a.x), s = w(a.scale)!, t = w(a.shift)!;
    return [x.map((v, i) => clampValue(v * s[i % a.channels] + t[i % a.channels], a.act.min, a.act.max))];
  }
};

export const batchNormModule: OpModule = {
  ops: { batch_norm: batchNorm, scale_shift: scaleShift },
  kernels: { scale_shift: scaleShiftKernel }
};
