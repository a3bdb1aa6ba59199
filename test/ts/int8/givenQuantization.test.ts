// A bundle with its own quantization (an int8 .tflite): the checks of graph.json, and the fp32
// view plus parameters the int8 lowering works from. The real model path (TensorFlow's
// converter, TFLite's interpreter, host and qemu-virt images) is test/python/tf/test_tflite_int8.py.
import { Graph, GraphTensor } from '../../../src/common/types';
import { Bundle } from '../../../src/toolchain/bundle/loadBundle';
import { checkGraph } from '../../../src/toolchain/bundle/checkGraph';
import { floatView, hasGivenQuantization } from '../../../src/toolchain/build/quantize/givenQuantization';
import { fixedMultiplier } from '../../../src/toolchain/build/quantize/params';
import { EdgespecError } from '../../../src/toolchain/errors';

const act = (shape: number[], scale: number, zp: number): GraphTensor =>
  ({ shape, dtype: 'int8', kind: 'activation', layout: 'NC', quantization: { scale: [scale], zero_point: [zp] } });

/** x (float32) -quantize-> xq -linear(w, b)-> yq -dequantize-> y (float32) */
function int8Graph(): Graph {
  return {
    format: 'edgespec.graph', version: 1, name: 'fc_int8',
    source: { framework: 'tflite', framework_version: '2.21.0', method: 'test', producer: 'test' },
    inputs: [{ name: 'x', tensor: 'x', shape: [1, 2], dtype: 'float32', layout: 'NC' }],
    outputs: [{ name: 'y', tensor: 'y', shape: [1, 3], dtype: 'float32', layout: 'NC' }],
    tensors: {
      x: { shape: [1, 2], dtype: 'float32', kind: 'input', layout: 'NC' },
      xq: act([1, 2], 0.02, -3),
      w: { shape: [3, 2], dtype: 'int8', kind: 'weight', quantization: { scale: [0.5, 0.25, 0.125], zero_point: [0, 0, 0], axis: 0 } },
      b: { shape: [3], dtype: 'int32', kind: 'weight', quantization: { scale: [0.01, 0.005, 0.0025], zero_point: [0, 0, 0], axis: 0 } },
      yq: act([1, 3], 0.1, 5),
      y: { shape: [1, 3], dtype: 'float32', kind: 'output', layout: 'NC' }
    },
    nodes: [
      { name: 'q', op: 'quantize', inputs: ['x'], outputs: ['xq'], attrs: {}, framework_ops: ['tflite.QUANTIZE'], module: '' },
      { name: 'fc', op: 'linear', inputs: ['xq', 'w', 'b'], outputs: ['yq'], attrs: {}, framework_ops: ['tflite.FULLY_CONNECTED'], module: 'fc' },
      { name: 'dq', op: 'dequantize', inputs: ['yq'], outputs: ['y'], attrs: {}, framework_ops: ['tflite.DEQUANTIZE'], module: '' }
    ],
    weights: { file: 'weights.safetensors', sha256: '0'.repeat(64), bytes: 0, count: 2 },
    reference: { file: 'reference.safetensors', sha256: '0'.repeat(64), inputs: ['input.0'], outputs: ['output.0'] },
    op_inventory: { 'tflite.FULLY_CONNECTED': 1 }
  };
}

function bundleOf(graph: Graph): Bundle {
  const w = Buffer.from(Int8Array.from([1, -2, 127, -127, 3, 4]).buffer);
  const b = Buffer.from(Int32Array.from([100, -200, 70000]).buffer);
  const tensors = new Map([
    ['w', { name: 'w', dtype: 'int8' as const, shape: [3, 2], data: w }],
    ['b', { name: 'b', dtype: 'int32' as const, shape: [3], data: b }]
  ]);
  return { dir: '/nowhere', graph, weights: { tensors } as unknown as Bundle['weights'], reference: {} as Bundle['reference'] };
}

function problemsOf(graph: Graph): string[] {
  try {
    checkGraph(graph);
    return [];
  } catch (e) {
    return ((e as EdgespecError).details as { problems: string[] }).problems;
  }
}

describe('a bundle with given quantization', () => {
  it('passes the graph checks as capture writes it', () => {
    expect(problemsOf(int8Graph())).toEqual([]);
    expect(hasGivenQuantization(int8Graph())).toBe(true);
  });

  it('is refused when a quantization does not fit its tensor, each problem named', () => {
    const g = int8Graph();
    g.tensors.w.quantization = { scale: [0.5, 0.25], zero_point: [0, 0], axis: 0 };
    g.tensors.b.quantization!.zero_point = [0, 1, 0];
    delete g.tensors.yq.quantization;
    g.tensors.x.quantization = { scale: [1], zero_point: [0] };
    const problems = problemsOf(g);
    expect(problems).toEqual(expect.arrayContaining([
      expect.stringMatching(/'w' of shape \[3, 2\] has 2 scales along axis 0/),
      expect.stringMatching(/'b' \(int32\) has zero points outside \[0, 0\]/),
      expect.stringMatching(/'yq' is int8 without a quantization/),
      expect.stringMatching(/'x' is float32 but has a quantization/)
    ]));
  });

  it('becomes an fp32 graph without the edge nodes, the input and output keeping the int8 parameters', () => {
    const view = floatView(bundleOf(int8Graph()), 'host');
    expect(view.graph.nodes.map(n => `${n.op}(${n.inputs.join(',')})->${n.outputs.join(',')}`)).toEqual(['linear(x,w,b)->y']);
    expect(Object.values(view.graph.tensors).every(t => t.dtype === 'float32' && t.quantization === undefined)).toBe(true);
    expect(view.given.activations.get('x')).toEqual({ scale: 0.02, zp: -3 });
    expect(view.given.activations.get('y')).toEqual({ scale: 0.1, zp: 5 });
    expect([...view.given.weights.get('b')!.values]).toEqual([100, -200, 70000]);
    const w = view.weights('w')!;
    const real = new Float32Array(Uint8Array.from(w.data).buffer);
    expect([...real]).toEqual([0.5, -1, 31.75, -31.75, 0.375, 0.5]);
  });

  it('refuses an int8 to int8 requantization, which has no kernel', () => {
    const g = int8Graph();
    g.tensors.zq = act([1, 3], 0.2, 0);
    g.nodes.splice(2, 0, { name: 'rq', op: 'quantize', inputs: ['yq'], outputs: ['zq'], attrs: {}, framework_ops: ['tflite.QUANTIZE'], module: '' });
    g.nodes[3].inputs = ['zq'];
    expect(() => floatView(bundleOf(g), 'host')).toThrow(/quantize: 1 node, an int8 → int8 requantization has no int8 kernel yet/);
  });
});

describe('TFLite multipliers', () => {
  it('are QuantizeMultiplier of the double ratio: a Q0.31 mantissa and a power of two', () => {
    const real = (0.0035339259 * 0.0029746592) / 0.0036130326;
    const m = fixedMultiplier(real);
    expect(m.mult).toBeGreaterThanOrEqual(2 ** 30);
    expect(m.mult).toBeLessThan(2 ** 31);
    expect(Math.abs(m.mult * 2 ** (m.shift - 31) - real) / real).toBeLessThan(2 ** -30);
  });
});
