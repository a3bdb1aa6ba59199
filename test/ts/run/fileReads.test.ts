// Every file the toolchain reads from a user's place is a regular file read up to a known size:
// a FIFO, /dev/zero or a huge file as --input, graph.json, weights.safetensors,
// reference.safetensors or build.json gets one clear message at once, through the real CLI.
import { createHash } from 'crypto';
import execa from 'execa';
import { closeSync, copyFileSync, mkdirSync, openSync, ftruncateSync, rmSync, writeFileSync } from 'fs';
import * as path from 'path';
import { BuildManifest } from '../../../src/common/types';
import { buildToolchain, CliRun, expectNoStackTrace, runCli } from '../foundation/cliProcess';
import { removeScratch, scratchDir, writeTinyBundle } from '../foundation/tinyBundle';
import { readRegularFile } from '../../../src/toolchain/readRegularFile';

/** Each of these must answer within this; before the fix a FIFO made them hang for good. */
const PROMPT_MS = 20_000;
const GIB = 1024 ** 3;

let root: string;
let bundle: string;

beforeAll(async () => {
  await buildToolchain();
  root = scratchDir('file-reads');
  bundle = writeTinyBundle(path.join(root, 'bundle'));
});
afterAll(() => removeScratch(root));

function mkfifo(file: string): void {
  rmSync(file, { force: true });
  execa.sync('mkfifo', [file]);
}

function sparseFile(file: string, bytes: number): void {
  const fd = openSync(file, 'w');
  ftruncateSync(fd, bytes);
  closeSync(fd);
}

/** A copy of the tiny bundle with `name` replaced by `replace(file)`. */
function bundleWith(label: string, name: string, replace: (file: string) => void): string {
  const dir = path.join(root, label);
  mkdirSync(dir, { recursive: true });
  for (const f of ['graph.json', 'weights.safetensors', 'reference.safetensors']) copyFileSync(path.join(bundle, f), path.join(dir, f));
  replace(path.join(dir, name));
  return dir;
}

/** A host build of the tiny bundle's shapes; its image is never started by these tests (they fail first). */
function fakeBuild(label: string): string {
  const dir = path.join(root, label);
  mkdirSync(dir, { recursive: true });
  const image = Buffer.from('#!/bin/sh\nexit 0\n');
  writeFileSync(path.join(dir, 'model'), image, { mode: 0o755 });
  const manifest: BuildManifest = {
    format: 'edgespec.build',
    version: 1,
    model: 'tiny_mlp',
    target: 'host',
    bundle: path.relative(dir, bundle),
    image: 'model',
    image_bytes: image.length,
    image_sha256: createHash('sha256').update(image).digest('hex'),
    inputs: [{ name: 'x', tensor: 'x', shape: [1, 4], dtype: 'float32', layout: 'NC', bytes: 16, reference: 'x' }],
    outputs: [{ name: 'y', tensor: 'y', shape: [1, 3], dtype: 'float32', layout: 'NC', bytes: 12, reference: 'y' }],
    host: { argv: ['INPUT_FILE', 'OUTPUT_FILE'] },
    arena: { bytes: 0, lower_bound: 0 },
    weights: { file: 'weights.bin', bytes: 0, tensors: 0 },
    kernels: [],
    files: { footprint: 'footprint.json', log: 'build.log', map: 'image.map', linked: 'model', model_source: 'model.c' },
    producer: 'test/ts/run/fileReads.test.ts'
  };
  writeFileSync(path.join(dir, 'build.json'), JSON.stringify(manifest));
  return dir;
}

async function timed(args: string[]): Promise<CliRun & { ms: number }> {
  const start = Date.now();
  const run = await runCli(args, {}, PROMPT_MS);
  return { ...run, ms: Date.now() - start };
}

function expectRefused(run: CliRun & { ms: number }, message: RegExp): void {
  expect(run.exitCode).toBe(1);
  expect(run.stderr).toMatch(message);
  expect(run.stderr).toMatch(/\n {2}fix: /);
  expect(run.stderr).not.toContain('this is a bug in edgespec');
  expectNoStackTrace(run);
}

describe('bundle files that are not regular files', () => {
  it.each(['graph.json', 'weights.safetensors', 'reference.safetensors'])('a FIFO as %s: inspect and build refuse it at once', async name => {
    const dir = bundleWith(`fifo-${name}`, name, mkfifo);
    const inspect = await timed(['inspect', dir]);
    expectRefused(inspect, new RegExp(`${name.replace('.', '\\.')} is a FIFO \\(named pipe\\), not a regular file`));
    const build = await timed(['build', dir, '--target', 'host', '--out', path.join(root, `out-${name}`)]);
    expectRefused(build, /is a FIFO \(named pipe\), not a regular file/);
  });

  it('a directory as weights.safetensors', async () => {
    const dir = bundleWith('dir-weights', 'weights.safetensors', file => {
      rmSync(file);
      mkdirSync(file);
    });
    expectRefused(await timed(['inspect', dir]), /weights\.safetensors is a directory, not a regular file/);
  });

  it('a 3 GiB graph.json (sparse) is refused by its size, not read', async () => {
    const dir = bundleWith('huge-graph', 'graph.json', file => sparseFile(file, 3 * GIB));
    const run = await timed(['inspect', dir]);
    expectRefused(run, /graph\.json is 3221225472 bytes, more than the 67108864 it can be/);
    expect(run.ms).toBeLessThan(PROMPT_MS);
  });

  it('a weights file larger than graph.json declares is refused before it is read', async () => {
    const dir = bundleWith('huge-weights', 'weights.safetensors', file => sparseFile(file, 3 * GIB));
    expectRefused(await timed(['inspect', dir]), /weights\.safetensors is 3221225472 bytes but graph\.json declares \d+: it has extra bytes/);
  });

  it('a reference.safetensors far larger than the graph\'s inputs and outputs is refused', async () => {
    const dir = bundleWith('huge-reference', 'reference.safetensors', file => sparseFile(file, 3 * GIB));
    expectRefused(await timed(['inspect', dir]), /reference\.safetensors is 3221225472 bytes, more than the \d+ that the graph's reference inputs and outputs/);
  });
});

describe('run --input', () => {
  it('/dev/zero is refused at once as a character device (it used to grow without limit)', async () => {
    const run = await timed(['run', fakeBuild('build-zero'), '--input', '/dev/zero']);
    expectRefused(run, /input file \/dev\/zero is a character device, not a regular file/);
    expect(run.ms).toBeLessThan(PROMPT_MS);
  });

  it('a FIFO is refused at once (it used to hang, deaf to SIGTERM)', async () => {
    const fifo = path.join(root, 'input.fifo');
    mkfifo(fifo);
    expectRefused(await timed(['run', fakeBuild('build-fifo'), '--input', fifo]), /input\.fifo is a FIFO \(named pipe\), not a regular file/);
  });

  it.each(['input.bin', 'input.npy', 'input.safetensors'])('a 3 GiB %s is refused by its size before it is read', async name => {
    const file = path.join(root, `huge-${name}`);
    sparseFile(file, 3 * GIB);
    const run = await timed(['run', fakeBuild(`build-huge-${name}`), '--input', file]);
    expectRefused(run, new RegExp(`huge-${name.replace('.', '\\.')} is 3221225472 bytes, more than the 1048592 it can be \\(the model's input 'x' \\(float32 \\[1, 4\\], 16 bytes\\) and a header`));
  });
});

describe('build.json', () => {
  it('a FIFO as build.json is refused at once', async () => {
    const dir = fakeBuild('build-manifest-fifo');
    mkfifo(path.join(dir, 'build.json'));
    expectRefused(await timed(['run', dir]), /build\.json is a FIFO \(named pipe\), not a regular file/);
  });

  it('a 3 GiB build.json is refused by its size', async () => {
    const dir = fakeBuild('build-manifest-huge');
    sparseFile(path.join(dir, 'build.json'), 3 * GIB);
    expectRefused(await timed(['run', dir]), /build\.json is 3221225472 bytes, more than the 16777216 it can be/);
  });
});

describe('readRegularFile', () => {
  const limit = { what: 'test file', maxBytes: 10, hint: 'give a small regular file' };

  it('reads a regular file whole, and refuses one over the limit', async () => {
    const file = path.join(root, 'small.txt');
    writeFileSync(file, '0123456789');
    expect((await readRegularFile(file, limit)).toString()).toBe('0123456789');
    writeFileSync(file, '0123456789A');
    await expect(readRegularFile(file, limit)).rejects.toMatchObject({ code: 'file-too-large', message: `test file ${file} is 11 bytes, more than the 10 it can be` });
  });

  it('stops at the limit in a file whose size says 0 (/proc)', async () => {
    await expect(readRegularFile('/proc/self/maps', limit)).rejects.toMatchObject({ code: 'file-too-large', message: expect.stringContaining('more than 10 bytes') });
    expect((await readRegularFile('/proc/self/maps', { ...limit, maxBytes: 10 * 1024 * 1024 })).length).toBeGreaterThan(10);
  });

  it('passes errors of the system through for the caller to name', async () => {
    await expect(readRegularFile(path.join(root, 'absent'), limit)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
