// One rule per op attribute, applied by inspect (checkGraph) and build (AttrReader) alike.
import { promises as fs } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { Graph } from '../../../src/common/types';
import { AttrReader } from '../../../src/toolchain/build/attrs';
import { attrProblems, OP_ATTRS } from '../../../src/toolchain/ops/attrRules';
import { loadOpVocabulary } from '../../../src/toolchain/ops/vocabulary';
import { buildToolchain, CliRun, expectNoStackTrace, jsonEvents, runCli } from './cliProcess';
import { writeHalfInputBundle } from '../build/helpers/graphBuilder';
import { SMALL_GRAPHS } from '../build/helpers/smallGraphs';

describe('the table', () => {
  test('names exactly the ops of src/common/ops.json, each with exactly its attributes', () => {
    const vocabulary = loadOpVocabulary();
    expect(Object.keys(OP_ATTRS).sort()).toEqual(vocabulary.ops.map(o => o.op).sort());
    for (const op of vocabulary.ops) expect([op.op, Object.keys(OP_ATTRS[op.op]).sort()]).toEqual([op.op, Object.keys(op.attrs).sort()]);
  });

  test('every small test model passes it', () => {
    for (const make of Object.values(SMALL_GRAPHS)) {
      const { graph } = make();
      const problems = graph.nodes.flatMap(n => attrProblems(n, { inputShapes: n.inputs.map(t => graph.tensors[t]?.shape), outputCount: n.outputs.length }));
      expect([graph.name, problems]).toEqual([graph.name, []]);
    }
  });
});

const x4 = { inputShapes: [[1, 3, 8, 8]], outputCount: 1 };
const node = (op: string, attrs: Record<string, unknown>) => ({ name: 'n1', op, attrs });

describe.each([
  ['conv2d', 'stride', 'a'],
  ['conv2d', 'stride', [0, 0]],
  ['conv2d', 'stride', [1]],
  ['conv2d', 'stride', [1, 1.5]],
  ['conv2d', 'padding', [-1, -1, -1, -1]],
  ['conv2d', 'padding', [1, 1]],
  ['conv2d', 'dilation', [0, 1]],
  ['conv2d', 'groups', 0],
  ['conv2d', 'weight_layout', 'HWIO'],
  ['conv2d', 'activation', 'gelu'],
  ['linear', 'activation', 'relu7'],
  ['add', 'scalar', 'one'],
  ['clamp', 'min', 'low'],
  ['gelu', 'approximate', 'erf'],
  ['max_pool2d', 'kernel', [0, 3]],
  ['max_pool2d', 'ceil_mode', 'yes'],
  ['avg_pool2d', 'divisor_override', 0],
  ['avg_pool2d', 'count_include_pad', 1],
  ['adaptive_avg_pool2d', 'output_size', [-1, 1]],
  ['mean', 'axes', [2, 2]],
  ['mean', 'axes', [4]],
  ['softmax', 'axis', 4],
  ['softmax', 'axis', -1],
  ['batch_norm', 'eps', -1e-5],
  ['reshape', 'shape', [1, 3, 8]],
  ['transpose', 'perm', [0, 1, 1, 2]],
  ['concat', 'axis', 7],
  ['split', 'sizes', [1, 1]],
  ['pad', 'pads', [[0, 0], [1]]],
  ['pad', 'value', 'zero']
])('%s with %s = %j', (op, attr, value) => {
  const base: Record<string, Record<string, unknown>> = {
    max_pool2d: { kernel: [2, 2] }, avg_pool2d: { kernel: [2, 2] }, adaptive_avg_pool2d: { output_size: [1, 1] }, mean: { axes: [2, 3] },
    softmax: { axis: 1 }, reshape: { shape: [1, 192] }, transpose: { perm: [0, 2, 3, 1] }, concat: { axis: 1 }, split: { axis: 1, sizes: [1, 2] },
    pad: { pads: [[0, 0], [0, 0], [1, 1], [1, 1]] }
  };
  const attrs = { ...(base[op] ?? {}), [attr]: value };
  const ctx = op === 'split' ? { ...x4, outputCount: 2 } : x4;

  test('inspect: one message naming the node, the op, the attribute, the value given and what is allowed', () => {
    const problems = attrProblems(node(op, attrs), ctx);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(new RegExp(`^node 'n1' \\(${op}\\): attribute '${attr}' is .+; allowed: .+`));
    expect(problems[0]).toContain(`is ${JSON.stringify(value)};`);
  });

  test('the same values without the mistake pass', () => {
    expect(attrProblems(node(op, base[op] ?? {}), ctx)).toEqual([]);
  });
});

test('a missing required attribute and an unknown one are named', () => {
  expect(attrProblems(node('max_pool2d', {}), x4)).toEqual([expect.stringMatching(/attribute 'kernel' is missing; allowed: \[kh, kw\], two integers >= 1/)]);
  expect(attrProblems(node('relu', { strides: [2, 2] }), x4)).toEqual([expect.stringMatching(/attribute 'strides' is \[2,2\]; allowed: no such attribute; relu takes no attributes/)]);
  expect(attrProblems(node('conv2d', { strides: [2, 2] }), x4)).toEqual([expect.stringMatching(/conv2d takes stride, padding, dilation, groups, weight_layout, activation/)]);
});

test('the build\'s attribute reader refuses what inspect refuses, with the same message', () => {
  const attrs = { stride: [0, 0], padding: [0, 0, 0, 0] };
  const expected = attrProblems(node('conv2d', attrs), x4)[0];
  expect(() => new AttrReader('n1', 'conv2d', attrs)).toThrow(expected);
  expect(() => new AttrReader('n1', 'conv2d', { stride: 'a' }).pair('stride')).toThrow(/attribute 'stride' is "a"; allowed: \[sh, sw\], two integers >= 1/);
});

describe('inspect and build through the CLI', () => {
  let workDir: string;
  let bundle: string;

  beforeAll(async () => {
    await buildToolchain();
    workDir = await fs.mkdtemp(path.join(tmpdir(), 'edgespec-attr-rules-'));
    bundle = path.join(workDir, 'bundle');
    await writeHalfInputBundle(bundle, SMALL_GRAPHS.convBnRelu());
  });

  afterAll(async () => {
    await fs.rm(workDir, { recursive: true, force: true });
  });

  async function variant(name: string, edit: (g: Graph) => void): Promise<string> {
    const dir = path.join(workDir, name);
    await fs.cp(bundle, dir, { recursive: true });
    const graph = JSON.parse(await fs.readFile(path.join(dir, 'graph.json'), 'utf8')) as Graph;
    edit(graph);
    await fs.writeFile(path.join(dir, 'graph.json'), JSON.stringify(graph));
    return dir;
  }

  function error(run: CliRun): { code: string; message: string } {
    expect(run.exitCode).toBe(1);
    expectNoStackTrace(run);
    return jsonEvents(run.stdout).find(e => e.event === 'error') as { code: string; message: string };
  }

  test.each([
    ['stride "a"', { stride: 'a' }, /attribute 'stride' is "a"; allowed: \[sh, sw\], two integers >= 1/],
    ['stride [0, 0]', { stride: [0, 0] }, /attribute 'stride' is \[0,0\]; allowed: \[sh, sw\], two integers >= 1/],
    ['negative padding', { padding: [-1, -1, -1, -1] }, /attribute 'padding' is \[-1,-1,-1,-1\]; allowed: \[top, left, bottom, right\], four integers >= 0/]
  ])('%s: inspect and build refuse it with the same message, and build writes nothing', async (what, attrs, message) => {
    const dir = await variant(what.replace(/\W/g, '_'), g => Object.assign(g.nodes.find(n => n.op === 'conv2d')!.attrs, attrs));
    const conv = (JSON.parse(await fs.readFile(path.join(dir, 'graph.json'), 'utf8')) as Graph).nodes.find(n => n.op === 'conv2d')!.name;
    const inspected = error(await runCli(['inspect', dir, '--json']));
    const out = path.join(workDir, `${what.replace(/\W/g, '_')}-out`);
    const built = error(await runCli(['build', dir, '--target', 'host', '--out', out, '--json']));
    expect(inspected).toEqual(built);
    expect(inspected.code).toBe('bundle-bad-attribute');
    expect(inspected.message).toMatch(message);
    expect(inspected.message).toContain(`node '${conv}' (conv2d)`);
    expect((await fs.readdir(workDir)).filter(n => n.startsWith(`${what.replace(/\W/g, '_')}-out`) || n.includes('.tmp-'))).toEqual([]);
  });

  test('a 2^31 x 2^31 tensor is refused at inspect, naming the tensor', async () => {
    const dir = await variant('huge', g => {
      const conv = g.nodes.find(n => n.op === 'conv2d')!;
      g.tensors[conv.outputs[0]].shape = [2 ** 31, 2 ** 31];
    });
    const tensor = (JSON.parse(await fs.readFile(path.join(dir, 'graph.json'), 'utf8')) as Graph).nodes.find(n => n.op === 'conv2d')!.outputs[0];
    const inspected = error(await runCli(['inspect', dir, '--json']));
    expect(inspected.code).toBe('bundle-tensor-too-large');
    expect(inspected.message).toContain(`tensor '${tensor}' of shape [2147483648, 2147483648] has 4.612e+18 elements, more than the 2147483647 (2^31 - 1)`);
  });

  test('a tensor within the element limit but over 4 GiB is refused too', async () => {
    const dir = await variant('over4g', g => {
      const conv = g.nodes.find(n => n.op === 'conv2d')!;
      g.tensors[conv.outputs[0]].shape = [1, 2 ** 30 + 1];
    });
    const inspected = error(await runCli(['inspect', dir, '--json']));
    expect(inspected.code).toBe('bundle-tensor-too-large');
    expect(inspected.message).toMatch(/\(float32\) is 4294967300 bytes, more than the 4294967295 \(4 GiB - 1\)/);
  });
});
