import { createHash } from 'crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { Graph } from '../../../src/common/types';
import { encodeSafetensors, TensorToWrite } from '../../../src/toolchain/bundle/safetensors';

/**
 * A bundle written by the tests themselves: y = relu(x @ fc1.weight^T + fc1.bias) with
 * x [1, 4], fc1.weight [3, 4]. The tweaks break one thing at a time; checksums are
 * computed after the tensor tweaks, before the graph tweak.
 */
export interface BundleTweaks {
  weights?: (tensors: TensorToWrite[]) => TensorToWrite[];
  reference?: (tensors: TensorToWrite[]) => TensorToWrite[];
  graph?: (graph: Graph) => void;
}

export const WEIGHT = new Float32Array([0.5, -1, 2, 0.25, 1, 1, 1, 1, -0.5, 0, 3, -2]);
export const BIAS = new Float32Array([0.1, -0.2, 0.3]);
export const INPUT = new Float32Array([1, 2, -1, 4]);

export function tinyOutput(): Float32Array {
  const y = new Float32Array(3);
  for (let o = 0; o < 3; o++) {
    let sum = BIAS[o];
    for (let i = 0; i < 4; i++) sum += INPUT[i] * WEIGHT[o * 4 + i];
    y[o] = Math.max(sum, 0);
  }
  return y;
}

export function tinyGraph(): Graph {
  return {
    format: 'edgespec.graph',
    version: 1,
    name: 'tiny_mlp',
    source: { framework: 'pytorch', framework_version: '2.14.1', method: 'test fixture', producer: 'edgespec tests', entry: 'tiny_mlp.py:make' },
    inputs: [{ name: 'x', tensor: 'x', shape: [1, 4], dtype: 'float32', layout: 'NC' }],
    outputs: [{ name: 'y', tensor: 'y', shape: [1, 3], dtype: 'float32', layout: 'NC' }],
    tensors: {
      x: { shape: [1, 4], dtype: 'float32', kind: 'input', layout: 'NC' },
      'fc1.weight': { shape: [3, 4], dtype: 'float32', kind: 'weight', module: 'fc1' },
      'fc1.bias': { shape: [3], dtype: 'float32', kind: 'weight', module: 'fc1' },
      h: { shape: [1, 3], dtype: 'float32', kind: 'activation' },
      y: { shape: [1, 3], dtype: 'float32', kind: 'output' }
    },
    nodes: [
      { name: 'addmm', op: 'linear', inputs: ['x', 'fc1.weight', 'fc1.bias'], outputs: ['h'], attrs: {}, framework_ops: ['aten.permute.default', 'aten.addmm.default'], module: 'fc1', source: 'tiny_mlp.py:7' },
      { name: 'relu', op: 'relu', inputs: ['h'], outputs: ['y'], attrs: {}, framework_ops: ['aten.relu.default'], module: 'act' }
    ],
    weights: { file: 'weights.safetensors', sha256: '0'.repeat(64), bytes: 0, count: 2 },
    reference: { file: 'reference.safetensors', sha256: '0'.repeat(64), inputs: ['x'], outputs: ['y'] },
    op_inventory: { 'aten.t.default': 1, 'aten.addmm.default': 1, 'aten.relu_.default': 1, 'aten.dropout.default': 1 }
  };
}

export function writeTinyBundle(dir: string, tweaks: BundleTweaks = {}): string {
  mkdirSync(dir, { recursive: true });
  let weights: TensorToWrite[] = [
    { name: 'fc1.weight', dtype: 'float32', shape: [3, 4], data: WEIGHT },
    { name: 'fc1.bias', dtype: 'float32', shape: [3], data: BIAS }
  ];
  let reference: TensorToWrite[] = [
    { name: 'x', dtype: 'float32', shape: [1, 4], data: INPUT },
    { name: 'y', dtype: 'float32', shape: [1, 3], data: tinyOutput() }
  ];
  if (tweaks.weights) weights = tweaks.weights(weights);
  if (tweaks.reference) reference = tweaks.reference(reference);
  const weightsBytes = encodeSafetensors(weights, { format: 'pt' });
  const referenceBytes = encodeSafetensors(reference);
  writeFileSync(path.join(dir, 'weights.safetensors'), weightsBytes);
  writeFileSync(path.join(dir, 'reference.safetensors'), referenceBytes);
  const graph = tinyGraph();
  graph.weights = { ...graph.weights, sha256: sha256(weightsBytes), bytes: weightsBytes.length, count: weights.length };
  graph.reference = { ...graph.reference, sha256: sha256(referenceBytes) };
  tweaks.graph?.(graph);
  writeFileSync(path.join(dir, 'graph.json'), JSON.stringify(graph, null, 2));
  return dir;
}

export function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** A fresh directory under the system temp dir; remove with removeScratch. */
export function scratchDir(label: string): string {
  return mkdtempSync(path.join(tmpdir(), `edgespec-${label}-`));
}

export function removeScratch(dir: string | undefined): void {
  if (dir) rmSync(dir, { recursive: true, force: true });
}

export function flipByte(file: string, offsetFromEnd: number): void {
  const bytes = readFileSync(file);
  bytes[bytes.length - offsetFromEnd] ^= 0xff;
  writeFileSync(file, bytes);
}
