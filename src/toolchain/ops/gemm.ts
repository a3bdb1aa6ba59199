// linear and matmul: a GEMM against a constant [K][N] matrix, or a batched matmul of two activations.

import { LinearNode, MatmulNode, NO_ACTIVATION } from '../build/ir';
import { packLinear } from '../build/packWeights';
import { GemmStep, MatmulStep } from '../build/schedule';
import { formatShape, numel } from '../build/shape';
import { act } from './cText';
import { clampValue, originalOrderToNHWC } from './common';
import { KernelModule, NotSupported, OpModule, OpRule } from './opModule';
import { lowerPerChannel } from './perChannelInt8';

const linear: OpRule<LinearNode> = {
  kernels: ['gemm'],
  toIr: (node, a, base) => ({ ...base, op: 'linear', attrs: { activation: a.activation() } }),
  toNHWC: originalOrderToNHWC,
  select(node, s) {
    const [x, wName, bName] = node.inputs;
    const [y] = node.outputs;
    if (!s.isWeight(wName)) throw new NotSupported('the linear weight is computed at run time; only constant weights are supported');
    const xs = s.tensor(x).shape;
    const [o, i] = s.tensor(s.source(wName)).shape;
    s.expect(node, 'output', s.tensor(y).shape, [...xs.slice(0, -1), o]);
    if (xs[xs.length - 1] !== i) s.expect(node, 'input', xs, [...xs.slice(0, -1), i]);
    const w = s.weight(wName, 'gemm', t => packLinear(t.data!, t.shape));
    const b = bName === undefined ? null : s.weight(bName);
    s.push({
      kernel: 'gemm', reads: [s.act(x), w, ...(b ? [b] : [])], writes: [s.act(y)], inPlace: [],
      args: { a: x, w, b, y, m: numel(xs) / i, k: i, n: o, act: node.attrs.activation }
    }, node);
  }
};

const matmul: OpRule<MatmulNode> = {
  kernels: ['gemm', 'matmul'],
  toIr: (node, _a, base) => ({ ...base, op: 'matmul', attrs: {} }),
  toNHWC: originalOrderToNHWC,
  select(node, s) {
    const [aName, bName] = node.inputs;
    const [y] = node.outputs;
    const as = s.tensor(aName).shape;
    const bs = s.tensor(s.source(bName)).shape;
    const am = as.length === 1 ? [1, as[0]] : as;
    const bm = bs.length === 1 ? [bs[0], 1] : bs;
    const [m, k] = am.slice(-2);
    const [k2, n] = bm.slice(-2);
    if (k !== k2) s.expect(node, 'second operand', bs, [k, n]);
    if (s.isWeight(aName)) throw new NotSupported('a constant first operand (only the second may be a weight)');
    if (s.isWeight(bName)) {
      if (bm.length !== 2) throw new NotSupported(`a constant second operand of rank ${bs.length} (a [K, N] matrix is supported)`);
      const w = s.weight(bName);
      s.push({
        kernel: 'gemm', reads: [s.act(aName), w], writes: [s.act(y)], inPlace: [],
        args: { a: aName, w, b: null, y, m: numel(am) / k, k, n, act: NO_ACTIVATION }
      }, node);
      return;
    }
    const batch = numel(s.tensor(y).shape) / (m * n);
    const aBatch = numel(am) / (m * k);
    const bBatch = numel(bm) / (k * n);
    if ((aBatch !== batch && aBatch !== 1) || (bBatch !== batch && bBatch !== 1)) {
      throw new NotSupported(`matmul of ${formatShape(as)} and ${formatShape(bs)} broadcasts part of the batch dims`);
    }
    s.push({
      kernel: 'matmul', reads: [s.act(aName), s.act(bName)], writes: [s.act(y)], inPlace: [],
      args: { a: aName, b: bName, y, batch, m, k, n, aBatchStride: aBatch === 1 ? 0 : m * k, bBatchStride: bBatch === 1 ? 0 : k * n }
    }, node);
  }
};

const gemmKernel: KernelModule<GemmStep> = {
  call: (step, p, fn) => {
    const a = step.args;
    return `${fn}(${p.read(a.a)}, ${p.read(a.w)}, ${p.optional(a.b)}, ${p.write(a.y)}, ${a.m}, ${a.k}, ${a.n}, ${act(a.act)})`;
  },
  int8: lowerPerChannel,
  reference(step, get, w) {
    const a = step.args;
    const x = get(a.a), wt = w(a.w)!, b = w(a.b);
    const y = new Float32Array(a.m * a.n);
    for (let r = 0; r < a.m; r++) {
      const acc = new Float64Array(a.n);
      for (let k = 0; k < a.k; k++) {
        const xv = x[r * a.k + k];
        if (xv === 0) continue;
        for (let n = 0; n < a.n; n++) acc[n] += xv * wt[k * a.n + n];
      }
      for (let n = 0; n < a.n; n++) y[r * a.n + n] = clampValue(acc[n] + (b ? b[n] : 0), a.act.min, a.act.max);
    }
    return [y];
  }
};

const matmulKernel: KernelModule<MatmulStep> = {
  call: (step, p, fn) => {
    const a = step.args;
    return `${fn}(${p.read(a.a)}, ${p.read(a.b)}, ${p.write(a.y)}, ${a.batch}, ${a.m}, ${a.k}, ${a.n}, ${a.aBatchStride}, ${a.bBatchStride})`;
  },
  reference(step, get) {
    const a = step.args;
    const x = get(a.a), z = get(a.b);
    const y = new Float32Array(a.batch * a.m * a.n);
    for (let b = 0; b < a.batch; b++) for (let i = 0; i < a.m; i++) for (let j = 0; j < a.n; j++) {
      let acc = 0;
      for (let k = 0; k < a.k; k++) acc += x[b * a.aBatchStride + i * a.k + k] * z[b * a.bBatchStride + k * a.n + j];
      y[(b * a.m + i) * a.n + j] = acc;
    }
    return [y];
  }
};

export const gemmModule: OpModule = {
  ops: { linear, matmul },
  kernels: { gemm: gemmKernel, matmul: matmulKernel }
};
