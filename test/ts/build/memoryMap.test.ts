// qemu-virt's memory map sized from the model (issue 13): the defaults for a model that
// fits them, grown regions and QEMU -m for one that does not, a clear refusal past 4 GiB.
import { existsSync, promises as fs } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { BuildManifest } from '../../../src/common/types';
import { buildBundle } from '../../../src/toolchain/build/buildBundle';
import { lowerModel } from '../../../src/toolchain/build/lowerModel';
import { memoryNeeds, MemoryNeeds } from '../../../src/toolchain/build/memoryCheck';
import { sizedMap, withSizedMap } from '../../../src/toolchain/build/memoryMap';
import { loadTarget } from '../../../src/toolchain/build/targets';
import { EdgespecError } from '../../../src/toolchain/errors';
import { createReporter } from '../../../src/toolchain/events';
import { isGrownQemuVirtMap } from '../../../src/toolchain/guest/qemuVirtMemory';
import { runBuild } from '../../../src/toolchain/run/runBuild';
import { GraphBuilder, rng, writeBundle } from './helpers/graphBuilder';
import { SMALL_GRAPHS } from './helpers/smallGraphs';

const MIB = 1024 * 1024;
const qemuVirt = loadTarget('qemu-virt');
const needsOf = (image: number, ram: number, input: number): MemoryNeeds => ({ regions: qemuVirt.memory, needed: { image, ram, input } });

describe('the computed map', () => {
  test('a model that fits the defaults keeps them: edgespec.ld unchanged, QEMU -m 1G', () => {
    const built = SMALL_GRAPHS.residual();
    const needs = memoryNeeds(qemuVirt, lowerModel(built.graph, built.lookup, 'qemu-virt'));
    expect(sizedMap(qemuVirt, needs)).toEqual({ regions: qemuVirt.memory, memory: '1G', inputAddress: '0x70000000', defsyms: [] });
    expect(withSizedMap(qemuVirt, needs)).toBe(qemuVirt);
  });

  test('288 MiB of weights grow the image region; RAM and input follow it, and -m covers exactly the three', () => {
    const map = sizedMap(qemuVirt, needsOf(288_000_000, 1000, 100))!;
    // 288,000,000 B + 8 MiB for code, rounded up to 2 MiB: 284 MiB
    expect(map.regions).toEqual([
      { name: 'image', base: 0x40000000, size: 284 * MIB },
      { name: 'ram', base: 0x40000000 + 284 * MIB, size: 512 * MIB },
      { name: 'input', base: 0x40000000 + 796 * MIB, size: 256 * MIB }
    ]);
    expect(map.memory).toBe('1052M');
    expect(map.inputAddress).toBe('0x71c00000');
    expect(map.defsyms).toContain('-Wl,--defsym=__es_image_size=0x11c00000');
    expect(map.defsyms).toContain('-Wl,--defsym=__es_input_base=0x71c00000');
    const target = withSizedMap(qemuVirt, needsOf(288_000_000, 1000, 100));
    expect(target.qemu).toEqual({ machine: 'virt', cpu: 'cortex-a72', memory: '1052M', input_address: '0x71c00000' });
    expect(target.ldflags.slice(-6)).toEqual(map.defsyms);
    // the run accepts the grown map, and only maps of that form
    expect(isGrownQemuVirtMap(map.memory, map.inputAddress, '0x70000000')).toBe(true);
    for (const [memory, address] of [['1052M,slots=2', '0x71c00000'], ['1052M', '0x71c00000,file=/x'], ['4000M', '0x71c00000'], ['1052M', '0x71c00001'], ['1052M', '0x60000000'], ['1052M', '0x81c00000']]) {
      expect(isGrownQemuVirtMap(memory, address, '0x70000000')).toBe(false);
    }
  });

  test('a large arena grows RAM and a large input the input region', () => {
    const map = sizedMap(qemuVirt, needsOf(1000, 1000 * MIB, 300 * MIB))!;
    expect(map.regions.map(r => r.size / MIB)).toEqual([256, 1008, 300]);
    expect(map.memory).toBe(`${256 + 1008 + 300}M`);
  });

  test('a model past 4 GiB is refused with its sizes', () => {
    let error: unknown;
    try {
      sizedMap(qemuVirt, needsOf(2048 * MIB, 1024 * MIB, 10));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(EdgespecError);
    expect((error as EdgespecError).code).toBe('model-too-large');
    expect((error as EdgespecError).message).toMatch(/does not fit qemu-virt: .* need \d+ bytes \(3088\.0 MiB: image 2048\.0 MiB \+ 8\.0 MiB for code, RAM 1024\.0 MiB \+ 8\.0 MiB, input 0\.0 MiB\), more than the 3072\.0 MiB between 0x40000000 and 4 GiB/);
    expect((error as EdgespecError).hint).toMatch(/int8/);
  });

  test('other targets keep their own maps', () => {
    const rpi3 = loadTarget('rpi3');
    expect(sizedMap(rpi3, { regions: rpi3.memory, needed: { image: 1, ram: 1 } })).toBeUndefined();
  });
});

// Builds and boots a Linear 9000 -> 8000 (288 MB of float32 weights, more than the default
// 256 MiB image region) on qemu-virt: about 3 minutes on a loaded 2-core machine, 1.5 GB of memory.
const long = process.env.EDGESPEC_LONG_TESTS === '1' ? describe : describe.skip;
long('a model with more weights than the default image region', () => {
  let work: string;
  beforeAll(async () => {
    work = await fs.mkdtemp(path.join(tmpdir(), 'edgespec-memory-map-'));
  });
  afterAll(async () => {
    await fs.rm(work, { recursive: true, force: true });
  });

  test('builds for qemu-virt with a grown map and runs agreeing with the reference', async () => {
    const [inFeatures, outFeatures] = [9000, 8000];
    const b = new GraphBuilder('big_linear', 13);
    const x = b.input('x', [1, inFeatures]);
    const w = b.weight('fc.weight', [outFeatures, inFeatures], 'fc', (() => { const r = rng(7); return () => r() * 0.01; })());
    b.output(b.node('linear', [x, w], [1, outFeatures], {}, 'fc', ['aten.mm.default']));
    const built = b.build();
    const r = rng(3);
    const input = Float32Array.from({ length: inFeatures }, () => r());
    const weights = built.weights.get('fc.weight')!;
    const output = new Float32Array(outFeatures);
    for (let o = 0; o < outFeatures; o++) {
      let s = 0;
      for (let i = 0; i < inFeatures; i++) s += weights[o * inFeatures + i] * input[i];
      output[o] = s;
    }
    const bundle = path.join(work, 'bundle');
    await writeBundle(bundle, built, [input], [output]);
    const outDir = path.join(work, 'build');
    const lines: string[] = [];
    await buildBundle({ bundleDir: bundle, target: 'qemu-virt', outDir, cacheDir: null, reporter: createReporter(true, l => lines.push(l), () => undefined) });
    expect(lines.join('\n')).toContain("the model does not fit qemu-virt's default memory map: image 284 MiB at 0x40000000, ram 512 MiB at 0x51c00000, input 256 MiB at 0x71c00000; QEMU -m 1052M");
    const m = JSON.parse(await fs.readFile(path.join(outDir, 'build.json'), 'utf8')) as BuildManifest & { memory: { name: string; base: string; size: number; needed: number }[] };
    expect(m.qemu).toEqual({ machine: 'virt', cpu: 'cortex-a72', memory: '1052M', input_address: '0x71c00000' });
    expect(m.memory.find(r => r.name === 'image')).toMatchObject({ base: '0x40000000', size: 284 * MIB });
    expect(m.memory.find(r => r.name === 'image')!.needed).toBeGreaterThan(288_000_000);
    expect(existsSync(path.join(outDir, 'image.elf'))).toBe(true);
    const { report } = await runBuild({ buildDir: outDir, reporter: createReporter(true, () => undefined, () => undefined) });
    expect(report.error).toBeUndefined();
    expect(report.status).toBe('ok');
  }, 300_000);
});
