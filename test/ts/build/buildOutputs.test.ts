// What a build writes: a byte-identical image on every build, a footprint that attributes
// every byte of the image file, build.json for the run stage, and no half-written directory.
import { createHash } from 'crypto';
import { existsSync, promises as fs } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { BuildManifest, Footprint, FootprintNode } from '../../../src/common/types';
import { buildBundle, BuildResult } from '../../../src/toolchain/build/buildBundle';
import { graphToIr } from '../../../src/toolchain/build/graphToIr';
import { lowerModel } from '../../../src/toolchain/build/lowerModel';
import { checkMemoryBeforeLink, memoryNeeds } from '../../../src/toolchain/build/memoryCheck';
import { loadTarget } from '../../../src/toolchain/build/targets';
import { EdgespecError } from '../../../src/toolchain/errors';
import { BuiltGraph, GraphBuilder, rng, writeBundle } from './helpers/graphBuilder';
import { interpret } from './helpers/interpret';
import { SMALL_GRAPHS } from './helpers/smallGraphs';

let workDir: string;

beforeAll(async () => {
  workDir = await fs.mkdtemp(path.join(tmpdir(), 'edgespec-build-outputs-'));
});

afterAll(async () => {
  await fs.rm(workDir, { recursive: true, force: true });
});

/** A bundle with random inputs; its reference outputs come from the interpreter, or are zeros for models it cannot run. */
async function bundleOf(name: string, built: BuiltGraph, interpretable = true): Promise<string> {
  const dir = path.join(workDir, 'bundles', name);
  const r = rng(5);
  const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
  const inputs = built.graph.inputs.map(io => Float32Array.from({ length: size(io.shape) }, () => r()));
  const outputs = interpretable
    ? (() => {
        const values = interpret(graphToIr(built.graph, built.lookup, 'host'), new Map(built.graph.inputs.map((io, i) => [io.tensor, { shape: io.shape, data: Float64Array.from(inputs[i]) }])));
        return built.graph.outputs.map(io => Float32Array.from(values.get(io.name)!.data));
      })()
    : built.graph.outputs.map(io => new Float32Array(size(io.shape)));
  await writeBundle(dir, built, inputs, outputs);
  return dir;
}

function leaves(node: FootprintNode): FootprintNode[] {
  return node.children ? node.children.flatMap(leaves) : [node];
}

function checkTreeSums(node: FootprintNode): void {
  if (!node.children) return;
  expect(node.bytes).toBe(node.children.reduce((s, c) => s + c.bytes, 0));
  node.children.forEach(checkTreeSums);
}

function expectFootprintAccountsForTheImage(footprint: Footprint, imageBytes: number): void {
  const flash = footprint.tree.children!.find(c => c.name === 'flash')!;
  const ram = footprint.tree.children!.find(c => c.name === 'ram')!;
  checkTreeSums(footprint.tree);
  const flashLeaves = leaves(flash);
  expect(flashLeaves.reduce((s, l) => s + l.bytes, 0)).toBe(imageBytes);
  expect(footprint.image.bytes).toBe(imageBytes);
  for (const leaf of [...flashLeaves, ...leaves(ram)]) {
    expect(leaf.kind).toBeDefined();
    expect(leaf.source).toBeDefined();
    expect(leaf.bytes).toBeGreaterThan(0);
  }
  const weights = flashLeaves.filter(l => l.kind === 'weights');
  expect(weights.reduce((s, l) => s + l.bytes, 0)).toBe(footprint.totals.weights_bytes.value);
  expect(weights.every(l => l.source!.startsWith('layer:'))).toBe(true);
  expect(footprint.totals.overhead_bytes.value).toBe(imageBytes - footprint.totals.weights_bytes.value);
  expect(ram.bytes).toBe(footprint.totals.peak_ram_bytes.value);
  const arena = leaves(ram).filter(l => l.kind === 'arena');
  expect(arena.reduce((s, l) => s + l.bytes, 0)).toBe(footprint.arena.bytes);
  for (const total of Object.values(footprint.totals)) expect(total.how.length).toBeGreaterThan(10);
  for (const kernel of footprint.kernels) expect(kernel.bytes).toBeGreaterThan(0);
}

describe('qemu-virt build of a small model', () => {
  let first: BuildResult;
  let bundle: string;

  beforeAll(async () => {
    bundle = await bundleOf('residual', SMALL_GRAPHS.residual());
    first = await buildBundle({ bundleDir: bundle, target: 'qemu-virt', outDir: path.join(workDir, 'residual-a'), cacheDir: null });
  });

  test('two builds of the same bundle are byte-identical (compiled from scratch both times)', async () => {
    const second = await buildBundle({ bundleDir: bundle, target: 'qemu-virt', outDir: path.join(workDir, 'residual-b'), cacheDir: null });
    for (const file of ['image.elf', 'image.linked.elf', 'model.c', 'weights.bin', 'footprint.json', 'image.map']) {
      const a = await fs.readFile(path.join(first.dir, file));
      const b = await fs.readFile(path.join(second.dir, file));
      expect(`${file} ${createHash('sha256').update(b).digest('hex')}`).toBe(`${file} ${createHash('sha256').update(a).digest('hex')}`);
    }
  });

  test('footprint.json attributes every byte of the image file', async () => {
    const stat = await fs.stat(path.join(first.dir, 'image.elf'));
    const footprint = JSON.parse(await fs.readFile(path.join(first.dir, 'footprint.json'), 'utf8')) as Footprint;
    expectFootprintAccountsForTheImage(footprint, stat.size);
    const sources = new Set(leaves(footprint.tree).map(l => l.source));
    for (const s of ['platform', 'libc', 'model', 'elf']) expect(sources).toContain(s);
    expect([...sources].filter(s => s!.startsWith('kernel:')).sort()).toEqual(footprint.kernels.map(k => `kernel:${k.name}`).sort());
    expect([...sources].filter(s => s!.startsWith('layer:')).sort()).toEqual(['layer:a', 'layer:b', 'layer:fc']);
    expect(leaves(footprint.tree).some(l => l.kind === 'stack')).toBe(true);
  });

  test('build.json tells the run stage how to boot it and what goes in and out', async () => {
    const m = JSON.parse(await fs.readFile(path.join(first.dir, 'build.json'), 'utf8')) as BuildManifest;
    expect(m).toMatchObject({ format: 'edgespec.build', version: 1, model: 'residual', target: 'qemu-virt', image: 'image.elf' });
    expect(path.resolve(first.dir, m.bundle)).toBe(path.resolve(bundle));
    expect(m.inputs).toEqual([{ name: 'x', tensor: 'x', shape: [1, 4, 8, 8], dtype: 'float32', layout: 'NCHW', bytes: 1024, reference: 'x' }]);
    expect(m.outputs[0]).toMatchObject({ name: 'probs', shape: [1, 10], bytes: 40 });
    expect(m.qemu).toEqual({ machine: 'virt', cpu: 'cortex-a72', memory: '1G', input_address: '0x70000000' });
    expect(m.image_bytes).toBe((await fs.stat(path.join(first.dir, m.image))).size);
    expect(m.arena.bytes).toBeGreaterThanOrEqual(m.arena.lower_bound);
    expect(m.memory!.map(r => r.name)).toEqual(['image', 'ram', 'input']);
    for (const file of Object.values(m.files)) expect(existsSync(path.join(first.dir, file))).toBe(true);
  });

  test('the linked image carries a fault symbol table naming the kernels', async () => {
    const symbols = await fs.readFile(path.join(first.dir, 'symbols.c'), 'utf8');
    expect(symbols).toMatch(/"es_conv2d_f32\\0"/);
    expect(symbols).toMatch(/"es_model_invoke\\0"/);
  });
});

describe('host build', () => {
  test('footprint.json attributes every byte of the executable', async () => {
    const bundle = await bundleOf('conv_bn_relu', SMALL_GRAPHS.convBnRelu());
    const result = await buildBundle({ bundleDir: bundle, target: 'host' });
    expect(result.dir).toBe(path.join(bundle, 'build', 'host'));
    const stat = await fs.stat(path.join(result.dir, result.manifest.image));
    expectFootprintAccountsForTheImage(result.footprint, stat.size);
    expect(result.manifest.host).toEqual({ argv: ['INPUT_FILE', 'OUTPUT_FILE'] });
  });
});

describe('a failed build leaves nothing behind', () => {
  async function entries(dir: string): Promise<string[]> {
    return existsSync(dir) ? fs.readdir(dir) : [];
  }

  test('ops no kernel can run: one error listing them all, no build directory, no temporary directory', async () => {
    const b = new GraphBuilder('unsupported_head');
    const x = b.input('x', [2, 3, 4, 5], 'ANY');
    const m = b.node('mean', [x], [2, 4], { axes: [1, 3], keepdim: false }, 'pool');
    b.output(b.node('pad', [m], [2, 2], { pads: [[0, 0], [-1, -1]], value: 0 }, 'crop'));
    const bundle = await bundleOf('unsupported_head', b.build(), false);
    const out = path.join(workDir, 'unsupported-out', 'qemu-virt');
    const failure = buildBundle({ bundleDir: bundle, target: 'qemu-virt', outDir: out });
    await expect(failure).rejects.toMatchObject({ code: 'unsupported-ops' });
    await expect(failure).rejects.toThrow(/mean: 1 node.*pool[\s\S]*pad: 1 node.*crop/);
    expect(existsSync(out)).toBe(false);
    expect(existsSync(path.dirname(out))).toBe(false);
  });

  test('an existing directory that is not a build is not overwritten', async () => {
    const bundle = await bundleOf('sequence', SMALL_GRAPHS.sequence());
    const out = path.join(workDir, 'precious');
    await fs.mkdir(out);
    await fs.writeFile(path.join(out, 'notes.txt'), 'mine');
    await expect(buildBundle({ bundleDir: bundle, target: 'host', outDir: out })).rejects.toMatchObject({ code: 'out-not-build' });
    expect(await entries(out)).toEqual(['notes.txt']);
    expect((await entries(workDir)).filter(e => e.includes('.tmp-'))).toEqual([]);
  });

  test('an earlier build in the same place is replaced whole', async () => {
    const bundle = await bundleOf('sequence2', SMALL_GRAPHS.sequence());
    const out = path.join(workDir, 'rebuilt');
    await buildBundle({ bundleDir: bundle, target: 'host', outDir: out });
    // files a build or a run writes, left from before (a qemu-virt build's symbols.c, a run's report)
    await fs.writeFile(path.join(out, 'symbols.c'), 'from before');
    await fs.writeFile(path.join(out, 'run.json'), '{}');
    await buildBundle({ bundleDir: bundle, target: 'host', outDir: out });
    expect(await entries(out)).not.toContain('symbols.c');
    expect(await entries(out)).not.toContain('run.json');
    expect(await entries(out)).toContain('build.json');
  });
});

describe('memory check', () => {
  test('a model larger than the target names the region, what it needs and what there is', () => {
    const b = new GraphBuilder('too_big');
    const x = b.input('x', [1, 3, 4096, 4096]);
    b.output(b.node('conv2d', [x, b.weight('w', [16, 3, 1, 1], 'conv')], [1, 16, 4096, 4096], { stride: [1, 1], padding: [0, 0, 0, 0], groups: 1 }, 'conv'));
    const built = b.build();
    const target = loadTarget('qemu-virt');
    const lowered = lowerModel(built.graph, built.lookup, target.name);
    let error: unknown;
    try {
      checkMemoryBeforeLink(target, memoryNeeds(target, lowered));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(EdgespecError);
    const err = error as EdgespecError;
    expect(err.code).toBe('model-too-large');
    expect(err.message).toMatch(/needs at least \d+ bytes .* of the RAM region .* which has 536870912 bytes/);
    expect(err.hint).toMatch(/edgespec\.ld/);
  });

  test('a model that fits passes', () => {
    const built = SMALL_GRAPHS.residual();
    const target = loadTarget('qemu-virt');
    expect(() => checkMemoryBeforeLink(target, memoryNeeds(target, lowerModel(built.graph, built.lookup, target.name)))).not.toThrow();
  });
});
