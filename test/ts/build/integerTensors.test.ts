// Integer tensors in the build (issue 13): where graph.json may hold int32 / int64 tensors (take's
// indices, argmax results, add / sub / mul of integers, reshape), what the IR and the schedule make
// of them (an index_cast after an integer argmax, 8-byte int64 I/O, integer kernels), and the one
// message that lists every other use.
import { DType } from '../../../src/common/types';
import { graphToIr } from '../../../src/toolchain/build/graphToIr';
import { lowerModel } from '../../../src/toolchain/build/lowerModel';
import { emitModelSource } from '../../../src/toolchain/build/emitModelSource';
import { EdgespecError } from '../../../src/toolchain/errors';
import { BuiltGraph, GraphBuilder } from './helpers/graphBuilder';

function retype(built: BuiltGraph, dtypes: Record<string, DType>): BuiltGraph {
  for (const [name, dtype] of Object.entries(dtypes)) {
    built.graph.tensors[name].dtype = dtype;
    for (const io of [...built.graph.inputs, ...built.graph.outputs]) if (io.tensor === name) io.dtype = dtype;
  }
  return built;
}

function tokenGraph(): BuiltGraph {
  const b = new GraphBuilder('tokens');
  const ids = b.input('ids', [2, 3]);
  const a = b.input('a', [2, 3]);
  const table = b.weight('table', [10, 4], 'embed');
  const rows = b.node('take', [table, ids], [2, 3, 4], { axis: 0 }, 'embed');
  b.output(b.node('argmax', [rows], [2, 3], { axis: 2, keepdim: false }, 'head'), 'best');
  const sum = b.node('add', [ids, a], [2, 3], {}, 'sum');
  b.output(b.node('reshape', [b.node('mul', [sum, a], [2, 3], {}, 'product')], [6], { shape: [6] }, 'flat'), 'flat');
  b.output(rows, 'rows');
  const built = b.build();
  return retype(built, { ids: 'int64', a: 'int64', [built.graph.outputs[0].tensor]: 'int64', [sum]: 'int64', [built.graph.nodes[3].outputs[0]]: 'int64', [built.graph.outputs[1].tensor]: 'int64' });
}

describe('integer tensors in the build', () => {
  test('take reads int64 indices, an int64 argmax is stored through index_cast, integer add/mul choose the int64 kernels', () => {
    const built = tokenGraph();
    const ir = graphToIr(built.graph, built.lookup, 'host');
    const best = built.graph.outputs[0].tensor;
    expect(ir.tensors.get('ids')!.dtype).toBe('int64');
    expect(ir.tensors.get(best)!.dtype).toBe('int64');
    expect(ir.nodes.map(n => n.op)).toEqual(['take', 'argmax', 'index_cast', 'add', 'mul', 'reshape']);
    expect(ir.nodes[1].outputs[0]).toBe(`${best}:index`);
    expect(ir.tensors.get(`${best}:index`)!.dtype).toBeUndefined();

    const lowered = lowerModel(built.graph, built.lookup, 'host');
    expect(lowered.schedule.inputs.map(io => [io.name, io.bytes, io.dtype])).toEqual([['ids', 48, 'int64'], ['a', 48, 'int64']]);
    expect(lowered.schedule.outputs.map(io => [io.name, io.bytes])).toEqual([['best', 48], ['flat', 48], ['rows', 96]]);
    const kernels = lowered.schedule.steps.map(s => s.kernel);
    expect(kernels).toEqual(expect.arrayContaining(['take', 'argmax', 'cast_f32_i64', 'add_i64', 'mul_i64']));
    const { modelC } = emitModelSource(lowered.schedule, lowered.plan, lowered.blob, 'test');
    expect(modelC).toContain('!= 0) return ES_MODEL_BAD_INPUT;');
    expect(modelC).toMatch(/es_take_f32\(WEIGHT\(0\), [^;]*inputs\[0\], 8, 6, 0, &es_model_input_fault, "ids"\)/);
    expect(modelC).toMatch(/es_cast_f32_i64\([^;]*\(int64_t \*\)outputs\[0\], 6\)/);
    expect(modelC).toMatch(/es_add_i64\(\(const int64_t \*\)inputs\[0\]/);
    expect(modelC).toContain(' *   input 0: ids [2, 3] int64');
  });

  test('an integer tensor anywhere else is listed with the others in one message', () => {
    const b = new GraphBuilder('misused');
    const ids = b.input('ids', [2, 3]);
    const x = b.input('x', [2, 3]);
    b.output(b.node('sigmoid', [ids], [2, 3], {}, 'squash'), 'squashed');
    b.output(b.node('add', [ids, x], [2, 3], {}, 'mixed'), 'mixed');
    const table = b.weight('table', [4, 2], 'embed');
    b.output(b.node('take', [table, x], [2, 3, 2], { axis: 0 }, 'lookup'), 'rows');
    const built = retype(b.build(), { ids: 'int64' });
    let error: unknown;
    try {
      graphToIr(built.graph, built.lookup, 'host');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(EdgespecError);
    const text = `${(error as EdgespecError).message}\n${JSON.stringify((error as EdgespecError).details ?? '')}`;
    expect(text).toContain('tensor ids is int64, and only float32 kernels exist for this op');
    expect(text).toMatch(/sigmoid[\s\S]*add[\s\S]*take/);
    expect(text).toContain('its indices x are float32; they must be int32 or int64');
  });
});
