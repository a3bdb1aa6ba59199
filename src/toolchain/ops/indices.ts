// Integer tensors in the image: take (a table looked up with indices the model is given, int32
// or int64 as the framework gives them, each checked at run time) and index_cast (an argmax /
// argmin index, computed as a float32 number, stored as the integer output the framework gives).

import { IndexCastNode, TakeNode } from '../build/ir';
import { IndexCastStep, TakeStep } from '../build/schedule';
import { numel } from '../build/shape';
import { originalOrderToNHWC } from './common';
import { quantizeValue } from '../build/quantize/params';
import { BinaryStep } from '../build/schedule';
import { ints } from './cText';
import { Int8Context, KernelModule, NotSupported, OpModule, OpRule } from './opModule';

/** What model.c returns when an index is out of range (edgespec/model.h), and where it says which. */
const BAD_INPUT = 'ES_MODEL_BAD_INPUT';
export const INPUT_FAULT = 'es_model_input_fault';

function cString(text: string): string {
  return `"${text.replace(/[\\"]/g, c => `\\${c}`).replace(/[^\x20-\x7e]/g, '?')}"`;
}

const take: OpRule<TakeNode> = {
  kernels: ['take'],
  toIr: (_node, a, base) => ({ ...base, op: 'take', attrs: { axis: a.int('axis'), negativeIndices: a.bool('negative_indices', false) } }),
  toNHWC: originalOrderToNHWC,
  select(node, s) {
    const [x, indices] = node.inputs;
    const [y] = node.outputs;
    const table = s.tensor(s.source(x));
    const idx = s.tensor(indices);
    if (!idx.dtype) throw new NotSupported(`the indices ${indices} of take are not an integer tensor`);
    if (s.isWeight(indices)) throw new NotSupported(`take with constant indices ${indices} (capture makes those a gather)`);
    const a = node.attrs.axis;
    const shape = table.shape;
    s.expect(node, 'output', s.tensor(y).shape, [...shape.slice(0, a), ...idx.shape, ...shape.slice(a + 1)]);
    const xs = s.operand(x);
    s.push({
      kernel: 'take', reads: [xs, s.act(indices)], writes: [s.act(y)], inPlace: [],
      args: {
        x: xs, indices, y, outer: numel(shape.slice(0, a)), axis: shape[a], inner: numel(shape.slice(a + 1)), count: numel(idx.shape),
        indexBytes: idx.dtype === 'int64' ? 8 : 4, negative: node.attrs.negativeIndices, tensor: s.inputName?.(indices) ?? indices
      }
    }, node);
  }
};

function takeCall(fn: string, a: TakeStep['args'], x: string, y: string, indices: string): string {
  return `if (${fn}(${x}, ${y}, ${a.outer}, ${a.axis}, ${a.inner},\n      ${indices}, ${a.indexBytes}, ${a.count}, ${a.negative ? 1 : 0}, &${INPUT_FAULT}, ${cString(a.tensor)}) != 0) return ${BAD_INPUT}`;
}

/** int8 take: rows of codes of a constant table quantized per tensor over its range; the indices stay integers. */
function lowerTake(step: TakeStep, q: Int8Context): void {
  const a = step.args;
  const table = q.fpWeights.get(a.x);
  if (!table || q.given) return q.fallback(step);
  const p = q.rangeParams(a.y);
  const codes = Int8Array.from(table.data, v => quantizeValue(v, p));
  const w = q.addWeight({ name: `${a.x}#s8`, source: table.source, module: table.module, shape: table.shape, packing: `${table.packing}, int8 per tensor (the lookup's output range)`,
    bytes: Buffer.from(codes.buffer, codes.byteOffset, codes.byteLength), elementBytes: 1 });
  q.outputS8(a.y, p, y => q.push({
    kernel: 'take_s8', from: step.from, op: step.op, reads: [w, a.indices], writes: [y], inPlace: [],
    call: ptr => takeCall('es_take_s8', a, ptr.read(w), ptr.write(y), ptr.read(a.indices))
  }), step.from);
}

const takeKernel: KernelModule<TakeStep> = {
  call: (step, p, fn) => takeCall(fn, step.args, p.read(step.args.x), p.write(step.args.y), p.read(step.args.indices)),
  int8: lowerTake,
  reference(step, get, w) {
    const a = step.args;
    const x = w(a.x)!;
    const indices = get(a.indices);
    const y = new Float32Array(a.outer * a.count * a.inner);
    for (let k = 0; k < a.count; k++) {
      const index = indices[k] < 0 && a.negative ? indices[k] + a.axis : indices[k];
      if (!(index >= 0 && index < a.axis)) continue; // the image refuses such an input; calibration skips it
      for (let o = 0; o < a.outer; o++) y.set(x.subarray((o * a.axis + index) * a.inner, (o * a.axis + index + 1) * a.inner), (o * a.count + k) * a.inner);
    }
    return [y];
  }
};

const indexCast: OpRule<IndexCastNode> = {
  kernels: ['cast_f32_i32', 'cast_f32_i64'],
  toNHWC: originalOrderToNHWC,
  select(node, s) {
    const [x] = node.inputs;
    const [y] = node.outputs;
    s.push({
      kernel: node.attrs.to === 'int64' ? 'cast_f32_i64' : 'cast_f32_i32', reads: [s.act(x)], writes: [s.act(y)], inPlace: [],
      args: { x, y, count: numel(s.tensor(y).shape) }
    }, node);
  }
};

function castKernel(type: string): KernelModule<IndexCastStep> {
  return {
    call: (step, p, fn) => `${fn}(${p.read(step.args.x)}, (${type} *)${p.write(step.args.y)}, ${step.args.count})`,
    reference: (step, get) => [Float32Array.from(get(step.args.x))]
  };
}

/** add, sub, mul on integer tensors (the op rules of elementwise.ts choose them): no fused clamp. */
function integerBinaryKernel(type: string, f: (p: number, q: number) => number): KernelModule<BinaryStep> {
  return {
    call: (step, p, fn) => {
      const a = step.args;
      return `${fn}((const ${type} *)${p.read(a.a)}, ${ints(a.aStrides)}, (const ${type} *)${p.read(a.b)}, ${ints(a.bStrides)},\n      (${type} *)${p.write(a.y)}, ${ints(a.outShape)})`;
    },
    reference(step, _get, w) {
      const a = step.args;
      const x = w(a.a)!, z = w(a.b)!;
      const count = numel(a.outShape);
      const y = new Float32Array(count);
      for (let i = 0; i < count; i++) {
        let ia = 0, ib = 0;
        for (let d = 3, rest = i; d >= 0; d--) {
          const pos = rest % a.outShape[d];
          rest = Math.floor(rest / a.outShape[d]);
          ia += pos * a.aStrides[d];
          ib += pos * a.bStrides[d];
        }
        y[i] = f(x[ia], z[ib]);
      }
      return [y];
    }
  };
}

const add = (p: number, q: number) => p + q, sub = (p: number, q: number) => p - q, mul = (p: number, q: number) => p * q;

export const indicesModule: OpModule = {
  ops: { take, index_cast: indexCast },
  kernels: {
    take: takeKernel, cast_f32_i32: castKernel('int32_t'), cast_f32_i64: castKernel('int64_t'),
    add_i32: integerBinaryKernel('int32_t', add), sub_i32: integerBinaryKernel('int32_t', sub), mul_i32: integerBinaryKernel('int32_t', mul),
    add_i64: integerBinaryKernel('int64_t', add), sub_i64: integerBinaryKernel('int64_t', sub), mul_i64: integerBinaryKernel('int64_t', mul)
  }
};
