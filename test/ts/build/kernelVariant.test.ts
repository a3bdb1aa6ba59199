// `edgespec build --kernel-variant portable`: the same model without the hand-written NEON
// paths, for measuring what they buy. Real cross compiler, real QEMU, real object cache.
import { promises as fs } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { BuildManifest } from '../../../src/common/types';
import { buildBundle } from '../../../src/toolchain/build/buildBundle';
import { graphToIr } from '../../../src/toolchain/build/graphToIr';
import { createReporter } from '../../../src/toolchain/events';
import { runBuild } from '../../../src/toolchain/run/runBuild';
import { buildToolchain, runCli } from '../foundation/cliProcess';
import { rng, writeBundle } from './helpers/graphBuilder';
import { interpret } from './helpers/interpret';
import { SMALL_GRAPHS } from './helpers/smallGraphs';

let workDir: string;
let bundle: string;
let cacheDir: string;
const quiet = createReporter(true, () => undefined, () => undefined);
const readManifest = async (dir: string) => JSON.parse(await fs.readFile(path.join(dir, 'build.json'), 'utf8')) as BuildManifest;

beforeAll(async () => {
  workDir = await fs.mkdtemp(path.join(tmpdir(), 'edgespec-kernel-variant-'));
  cacheDir = path.join(workDir, 'objects');
  bundle = path.join(workDir, 'bundle');
  // pointwise (GEMM) and depthwise convolutions: both kernels have NEON paths
  const built = SMALL_GRAPHS.convBnRelu();
  const ir = graphToIr(built.graph, built.lookup, 'qemu-virt');
  const r = rng(3);
  const inputs = built.graph.inputs.map(io => Float32Array.from({ length: io.shape.reduce((a, b) => a * b, 1) }, () => r() * 2));
  const values = interpret(ir, new Map(built.graph.inputs.map((io, i) => [io.tensor, { shape: io.shape, data: Float64Array.from(inputs[i]) }])));
  await writeBundle(bundle, built, inputs, built.graph.outputs.map(io => Float32Array.from(values.get(io.name)!.data)));
});

afterAll(async () => {
  await fs.rm(workDir, { recursive: true, force: true });
});

test('portable and neon builds of one model both agree with the reference; the variant is in build.json, build.log and the object cache key', async () => {
  const neonDir = path.join(workDir, 'neon');
  const portableDir = path.join(workDir, 'portable');
  await buildBundle({ bundleDir: bundle, target: 'qemu-virt', outDir: neonDir, cacheDir });
  await buildBundle({ bundleDir: bundle, target: 'qemu-virt', outDir: portableDir, cacheDir, kernelVariant: 'portable' });

  expect((await readManifest(neonDir)).kernel_variant).toBe('neon');
  expect((await readManifest(portableDir)).kernel_variant).toBe('portable');
  const neonLog = await fs.readFile(path.join(neonDir, 'build.log'), 'utf8');
  const portableLog = await fs.readFile(path.join(portableDir, 'build.log'), 'utf8');
  expect(neonLog).not.toContain('-DES_NO_NEON');
  expect(portableLog).toMatch(/-DES_NO_NEON .*-c \/\S+\/kernels\/fp32\/gemm\.c/);
  // the neon build filled the cache; the portable build found none of its kernels there
  expect(portableLog).not.toMatch(/kernel-gemm\.o: from the object cache/);

  const neonGemm = await fs.readFile(path.join(neonDir, 'obj', 'kernel-gemm.o'));
  const portableGemm = await fs.readFile(path.join(portableDir, 'obj', 'kernel-gemm.o'));
  expect(neonGemm.equals(portableGemm)).toBe(false);

  const neon = (await runBuild({ buildDir: neonDir, reporter: quiet })).report;
  const portable = (await runBuild({ buildDir: portableDir, reporter: quiet })).report;
  for (const report of [neon, portable]) {
    expect(report.status).toBe('ok');
    expect(report.agreement!.max_abs_error).toBeLessThanOrEqual(report.agreement!.tolerance);
    expect(report.guest_instructions!.value).toBeGreaterThan(0);
  }
  expect(portable.guest_instructions!.value).not.toBe(neon.guest_instructions!.value);

  // a second portable build takes its kernels from the cache, under the portable key
  const again = path.join(workDir, 'portable-again');
  await buildBundle({ bundleDir: bundle, target: 'qemu-virt', outDir: again, cacheDir, kernelVariant: 'portable' });
  expect(await fs.readFile(path.join(again, 'build.log'), 'utf8')).toMatch(/kernel-gemm\.o: from the object cache .*-DES_NO_NEON/);
  expect((await fs.readFile(path.join(again, 'obj', 'kernel-gemm.o'))).equals(portableGemm)).toBe(true);
}, 300_000);

test('the CLI takes --kernel-variant, names the choices when it is wrong, and says so in the summary', async () => {
  await buildToolchain();
  const wrong = await runCli(['build', bundle, '--target', 'host', '--kernel-variant', 'sve']);
  expect(wrong.exitCode).toBe(2);
  expect(wrong.stderr).toMatch(/choose one of: neon, portable/);
  const help = await runCli(['build', '--help']);
  expect(help.stdout).toMatch(/--kernel-variant <variant>[\s\S]*ES_NO_NEON/);
  const out = path.join(workDir, 'cli-portable');
  const ok = await runCli(['build', bundle, '--target', 'host', '--kernel-variant', 'portable', '--out', out]);
  expect(ok.exitCode).toBe(0);
  expect(ok.stdout).toContain('(portable variant: -DES_NO_NEON)');
  expect((await readManifest(out)).kernel_variant).toBe('portable');
}, 300_000);
