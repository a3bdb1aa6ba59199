// layer_norm and group_norm (instance norm is group_norm with one channel per group):
// normalizations with statistics computed at run time, unlike batch_norm's folded ones.

import { GroupNormNode, LayerNormNode } from '../build/ir';
import { GroupNormStep, LayerNormStep } from '../build/schedule';
import { numel } from '../build/shape';
import { floatLiteral } from './cText';
import { KernelModule, NotSupported, OpModule, OpRule, SelectContext } from './opModule';

/** The optional affine inputs: constants (weights) only. */
function affine(node: { name: string; inputs: string[] }, s: SelectContext): { w: string | null; b: string | null } {
  const [, w, b] = node.inputs;
  for (const t of [w, b]) {
    if (t !== undefined && !s.isWeight(t)) throw new NotSupported(`the scale or bias ${t} is computed by the model; it must be a constant`);
  }
  return { w: w === undefined ? null : s.weight(w), b: b === undefined ? null : s.weight(b) };
}

const layerNorm: OpRule<LayerNormNode> = {
  kernels: ['layer_norm'],
  toIr: (_node, a, base) => ({ ...base, op: 'layer_norm', attrs: { axis: a.int('axis'), eps: a.number('eps', 1e-5) } }),
  /** Normalized dims that stay trailing and in order in the agnostic layout keep it (channels of NCHW in NHWC); else the framework's order. */
  toNHWC(node, r) {
    const x = node.inputs[0];
    if (!r.is4d(x)) return;
    const rank = r.tensor(x).shape.length;
    let layout = r.agnosticLayout([x]);
    const normalized = Array.from({ length: rank - node.attrs.axis }, (_, k) => node.attrs.axis + k);
    const memory = normalized.map(d => r.memoryAxis(x, d, layout));
    if (memory.some((m, k) => m !== rank - normalized.length + k)) layout = r.originalLayout(x);
    node.inputs[0] = r.want(x, layout, node.module);
    node.attrs = { ...node.attrs, axis: rank - normalized.length };
    r.produce(node.outputs[0], layout);
  },
  select(node, s) {
    const [x] = node.inputs;
    const [y] = node.outputs;
    const shape = s.tensor(x).shape;
    const { w, b } = affine(node, s);
    const inner = numel(shape.slice(node.attrs.axis));
    s.push({
      kernel: 'layer_norm', reads: [s.act(x), ...[w, b].filter((t): t is string => t !== null)], writes: [s.act(y)], inPlace: [x],
      args: { x, w, b, y, outer: numel(shape) / inner, inner, eps: node.attrs.eps }
    }, node);
  }
};

const groupNorm: OpRule<GroupNormNode> = {
  kernels: ['group_norm'],
  toIr: (_node, a, base) => ({ ...base, op: 'group_norm', attrs: { groups: a.int('groups'), eps: a.number('eps', 1e-5) } }),
  toNHWC(node, r) {
    const x = node.inputs[0];
    if (!r.is4d(x)) return;
    const layout = r.agnosticLayout([x]);
    node.inputs[0] = r.want(x, layout, node.module);
    r.produce(node.outputs[0], layout);
  },
  select(node, s) {
    const [x] = node.inputs;
    const [y] = node.outputs;
    const t = s.tensor(x);
    const channelsLast = t.layout === 'NHWC';
    const channels = channelsLast ? t.shape[t.shape.length - 1] : t.shape[1];
    if (channels % node.attrs.groups !== 0) throw new NotSupported(`${channels} channels do not split into ${node.attrs.groups} groups`);
    const { w, b } = affine(node, s);
    s.push({
      kernel: 'group_norm', reads: [s.act(x), ...[w, b].filter((v): v is string => v !== null)], writes: [s.act(y)], inPlace: [x],
      args: {
        x, w, b, y, batch: t.shape[0], channels, spatial: numel(t.shape) / (t.shape[0] * channels), groups: node.attrs.groups,
        channelsLast, eps: node.attrs.eps
      }
    }, node);
  }
};

/** Normalizes each of `sets` (lists of element indices) in place of `y`, then applies the per-element affine. */
function normalizeSets(x: Float32Array, sets: Iterable<number[]>, eps: number, affineAt: (i: number) => [number, number]): Float32Array {
  const y = new Float32Array(x.length);
  for (const set of sets) {
    const mean = set.reduce((p, i) => p + x[i], 0) / set.length;
    const variance = set.reduce((p, i) => p + (x[i] - mean) ** 2, 0) / set.length;
    const scale = 1 / Math.sqrt(variance + eps);
    for (const i of set) {
      const [g, b] = affineAt(i);
      y[i] = (x[i] - mean) * scale * g + b;
    }
  }
  return y;
}

const layerNormKernel: KernelModule<LayerNormStep> = {
  call: (step, p, fn) => {
    const a = step.args;
    return `${fn}(${p.read(a.x)}, ${p.optional(a.w)}, ${p.optional(a.b)}, ${p.write(a.y)}, ${a.outer}, ${a.inner}, ${floatLiteral(a.eps)})`;
  },
  reference(step, get, weight) {
    const a = step.args;
    const g = weight(a.w), b = weight(a.b);
    const rows = Array.from({ length: a.outer }, (_, o) => Array.from({ length: a.inner }, (_, i) => o * a.inner + i));
    return [normalizeSets(get(a.x), rows, a.eps, i => [g ? g[i % a.inner] : 1, b ? b[i % a.inner] : 0])];
  }
};

const groupNormKernel: KernelModule<GroupNormStep> = {
  call: (step, p, fn) => {
    const a = step.args;
    return `${fn}(${p.read(a.x)}, ${p.optional(a.w)}, ${p.optional(a.b)}, ${p.write(a.y)}, ${a.batch}, ${a.channels}, ${a.spatial}, ${a.groups}, ${a.channelsLast ? 1 : 0}, ${floatLiteral(a.eps)})`;
  },
  reference(step, get, weight) {
    const a = step.args;
    const g = weight(a.w), b = weight(a.b);
    const at = (n: number, c: number, s: number) => n * a.channels * a.spatial + (a.channelsLast ? s * a.channels + c : c * a.spatial + s);
    const channelOf = (i: number) => (a.channelsLast ? i % a.channels : Math.floor(i / a.spatial) % a.channels);
    const per = a.channels / a.groups;
    const sets: number[][] = [];
    for (let n = 0; n < a.batch; n++) for (let grp = 0; grp < a.groups; grp++) {
      const set: number[] = [];
      for (let c = grp * per; c < (grp + 1) * per; c++) for (let s = 0; s < a.spatial; s++) set.push(at(n, c, s));
      sets.push(set);
    }
    return [normalizeSets(get(a.x), sets, a.eps, i => [g ? g[channelOf(i)] : 1, b ? b[channelOf(i)] : 0])];
  }
};

export const normalizationModule: OpModule = {
  ops: { layer_norm: layerNorm, group_norm: groupNorm },
  kernels: { layer_norm: layerNormKernel, group_norm: groupNormKernel }
};
