import { mkdirSync, readFileSync, truncateSync, unlinkSync, writeFileSync } from 'fs';
import * as path from 'path';
import { loadBundle } from '../../../src/toolchain/bundle/loadBundle';
import { summarizeBundle } from '../../../src/toolchain/bundle/summarize';
import { EdgespecError } from '../../../src/toolchain/errors';
import { BundleTweaks, flipByte, removeScratch, scratchDir, sha256, tinyOutput, writeTinyBundle } from './tinyBundle';

let root: string;
let counter = 0;
beforeAll(() => {
  root = scratchDir('bundles');
});
afterAll(() => removeScratch(root));

function bundle(tweaks?: BundleTweaks): string {
  return writeTinyBundle(path.join(root, `b${counter++}`), tweaks);
}

/** The EdgespecError loadBundle throws for this directory. */
async function failure(dir: string): Promise<EdgespecError> {
  try {
    await loadBundle(dir);
  } catch (e) {
    if (!(e instanceof EdgespecError)) throw e;
    expect(e.hint).toBeTruthy();
    return e;
  }
  throw new Error(`loadBundle accepted ${dir}`);
}

describe('loadBundle on a valid bundle', () => {
  it('returns the graph and both tensor files', async () => {
    const dir = bundle();
    const loaded = await loadBundle(dir);
    expect(loaded.dir).toBe(dir);
    expect(loaded.graph.name).toBe('tiny_mlp');
    expect([...loaded.weights.tensors.keys()]).toEqual(['fc1.weight', 'fc1.bias']);
    expect(loaded.weights.metadata).toEqual({ format: 'pt' });
    const y = loaded.reference.tensors.get('y')!;
    expect(Array.from(new Float32Array(new Uint8Array(y.data).buffer))).toEqual(Array.from(tinyOutput()));
  });

  it('summarizes inventory, ops, parameter bytes and checksums', async () => {
    const summary = summarizeBundle(await loadBundle(bundle()));
    expect(summary.node_count).toBe(2);
    expect(summary.parameters).toEqual({ tensors: 2, elements: 15, bytes: 60 });
    expect(summary.edgespec_ops).toEqual([{ op: 'linear', count: 1 }, { op: 'relu', count: 1 }]);
    const byOp = Object.fromEntries(summary.op_inventory.map(r => [r.framework_op, r]));
    expect(byOp['aten.addmm.default'].edgespec_ops).toEqual(['linear']);
    expect(byOp['aten.relu_.default'].edgespec_ops).toEqual(['relu']);
    expect(byOp['aten.dropout.default']).toMatchObject({ edgespec_ops: [], removed: true });
    expect(byOp['aten.t.default']).toMatchObject({ edgespec_ops: [], removed: false });
    expect(summary.checksums.weights.status).toBe('ok');
  });
});

describe('loadBundle failures', () => {
  it('a directory that does not exist', async () => {
    const e = await failure(path.join(root, 'nothing-here'));
    expect(e.code).toBe('bundle-not-found');
    expect(e.message).toMatch(/bundle directory .*nothing-here does not exist/);
    expect(e.hint).toMatch(/edgespec capture .* --out .*nothing-here/);
  });

  it('a file instead of a directory', async () => {
    const file = path.join(root, 'plain-file');
    writeFileSync(file, 'x');
    expect((await failure(file)).code).toBe('bundle-not-directory');
  });

  it('a directory without graph.json', async () => {
    const dir = path.join(root, 'empty');
    mkdirSync(dir);
    const e = await failure(dir);
    expect(e.code).toBe('bundle-missing-graph');
    expect(e.message).toMatch(/is not an edgespec bundle: it has no graph.json/);
  });

  it('graph.json that is not JSON', async () => {
    const dir = bundle();
    writeFileSync(path.join(dir, 'graph.json'), '{"format": "edgespec.graph",');
    const e = await failure(dir);
    expect(e.code).toBe('bundle-graph-json');
    expect(e.message).toMatch(/graph.json is not valid JSON/);
  });

  it('schema errors, all listed with their JSON path', async () => {
    const dir = bundle({
      graph: g => {
        (g as { version: number }).version = 2;
        delete (g.nodes[0] as Partial<typeof g.nodes[0]>).framework_ops;
        (g.tensors['fc1.weight'] as { shape: unknown }).shape = [3, -4];
        (g as unknown as Record<string, unknown>).extra = true;
      }
    });
    const e = await failure(dir);
    expect(e.code).toBe('bundle-schema');
    expect(e.message).toMatch(/does not match the graph schema \(4 errors\)/);
    expect(e.message).toContain('version: must be 1');
    expect(e.message).toContain("nodes[0]: missing property 'framework_ops'");
    expect(e.message).toContain('tensors["fc1.weight"].shape[1]: must be >= 0');
    expect(e.message).toContain("(top level): unexpected property 'extra'");
  });

  it('ops outside the vocabulary, all listed at once with node, module and source', async () => {
    const dir = bundle({
      graph: g => {
        g.nodes[0].op = 'sort';
        g.nodes[0].framework_ops = ['aten.sort.default'];
        g.nodes[1].op = 'topk';
      }
    });
    const e = await failure(dir);
    expect(e.code).toBe('bundle-unknown-op');
    expect(e.message).toMatch(/uses 2 ops outside the edgespec vocabulary/);
    expect(e.message).toContain("sort: 1 node, first node 'addmm' (module 'fc1', from aten.sort.default, at tiny_mlp.py:7)");
    expect(e.message).toContain("topk: 1 node, first node 'relu' (module 'act', from aten.relu.default)");
    expect(e.hint).toMatch(/docs\/ops.md/);
  });

  it('tensors that are undeclared, read too early or mis-declared', async () => {
    const dir = bundle({
      graph: g => {
        g.nodes[0].inputs[0] = 'x_typo';
        g.nodes.reverse();
        g.inputs[0].shape = [1, 5];
      }
    });
    const e = await failure(dir);
    expect(e.code).toBe('bundle-graph-inconsistent');
    expect(e.message).toContain("input 'x' is float32 [1, 5] but its tensor 'x' is declared float32 [1, 4]");
    expect(e.message).toContain("node 'relu' (module 'act', from aten.relu.default) reads tensor 'h' before any node writes it");
    expect(e.message).toContain("reads tensor 'x_typo', which is not declared in tensors");
  });

  it('tampered weights: same size, other bytes', async () => {
    const dir = bundle();
    flipByte(path.join(dir, 'weights.safetensors'), 3);
    const e = await failure(dir);
    expect(e.code).toBe('bundle-checksum');
    expect(e.message).toMatch(/weights.safetensors has sha256 [0-9a-f]{64} but graph.json declares [0-9a-f]{64}: the file was changed or damaged after capture/);
    expect(e.hint).toBe(`capture the model again: edgespec capture tiny_mlp.py:make --input-shape 1x4 --out ${dir}`);
  });

  it('truncated weights', async () => {
    const dir = bundle();
    const file = path.join(dir, 'weights.safetensors');
    const size = readFileSync(file).length;
    truncateSync(file, size - 10);
    const e = await failure(dir);
    expect(e.code).toBe('bundle-file-size');
    expect(e.message).toContain(`weights.safetensors is ${size - 10} bytes but graph.json declares ${size}: it is truncated`);
  });

  it('a missing weights file', async () => {
    const dir = bundle();
    unlinkSync(path.join(dir, 'weights.safetensors'));
    const e = await failure(dir);
    expect(e.code).toBe('bundle-missing-file');
    expect(e.message).toMatch(/weights.safetensors is missing/);
  });

  it('a weights file that is damaged inside but matches its checksum', async () => {
    const dir = bundle();
    const file = path.join(dir, 'weights.safetensors');
    const damaged = Buffer.from(readFileSync(file));
    damaged.writeBigUInt64LE(10n ** 6n, 0);
    writeFileSync(file, damaged);
    const graphFile = path.join(dir, 'graph.json');
    const graph = JSON.parse(readFileSync(graphFile, 'utf8'));
    graph.weights.sha256 = sha256(damaged);
    writeFileSync(graphFile, JSON.stringify(graph));
    const e = await failure(dir);
    expect(e.code).toBe('bundle-file-invalid');
    expect(e.message).toMatch(/weights.safetensors: the header length 1000000 goes beyond the end of the file/);
  });

  it('a weight tensor missing from the file, named with its module', async () => {
    const dir = bundle({ weights: w => w.filter(t => t.name !== 'fc1.bias') });
    const e = await failure(dir);
    expect(e.code).toBe('bundle-weights-mismatch');
    expect(e.message).toContain("tensor 'fc1.bias' (float32 [3], module 'fc1') is missing from the file");
  });

  it('a weight tensor with the wrong shape or dtype', async () => {
    const dir = bundle({
      weights: w => w.map(t => (t.name === 'fc1.weight' ? { ...t, shape: [4, 3] } : t.name === 'fc1.bias' ? { ...t, dtype: 'int32' } : t))
    });
    const e = await failure(dir);
    expect(e.code).toBe('bundle-weights-mismatch');
    expect(e.message).toContain("tensor 'fc1.weight' is float32 [4, 3] in the file but graph.json declares float32 [3, 4]");
    expect(e.message).toContain("tensor 'fc1.bias' is int32 [3] in the file but graph.json declares float32 [3]");
  });

  it('a tensor in the weights file that graph.json does not declare', async () => {
    const dir = bundle({ weights: w => [...w, { name: 'stray', dtype: 'float32', shape: [1], data: new Float32Array(1) }] });
    const e = await failure(dir);
    expect(e.message).toContain("tensor 'stray' is in the file but graph.json declares no weight of that name");
  });

  it('a weights count that disagrees with the file', async () => {
    const dir = bundle({ graph: g => (g.weights.count = 3) });
    expect((await failure(dir)).message).toContain('the file holds 2 tensors but graph.json weights.count is 3');
  });

  it('tampered reference', async () => {
    const dir = bundle();
    flipByte(path.join(dir, 'reference.safetensors'), 1);
    const e = await failure(dir);
    expect(e.code).toBe('bundle-checksum');
    expect(e.message).toMatch(/reference.safetensors has sha256/);
  });

  it('a reference without the named output, or with the wrong shape', async () => {
    const missing = await failure(bundle({ reference: r => r.filter(t => t.name !== 'y') }));
    expect(missing.code).toBe('bundle-reference-mismatch');
    expect(missing.message).toContain("reference output 'y' is missing from the file");
    const wrong = await failure(bundle({ reference: r => r.map(t => (t.name === 'x' ? { ...t, shape: [4, 1] } : t)) }));
    expect(wrong.message).toContain("reference input 'x' is float32 [4, 1] but graph input 'x' is float32 [1, 4]");
  });
});
