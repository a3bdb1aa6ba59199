// `edgespec build` as a user runs it: the real CLI in a subprocess.
import execa from 'execa';
import { existsSync, promises as fs } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { buildToolchain, expectNoStackTrace, jsonEvents, runCli } from '../foundation/cliProcess';
import { writeHalfInputBundle } from './helpers/graphBuilder';
import { SMALL_GRAPHS } from './helpers/smallGraphs';
import { repoPath } from '../../../src/toolchain/paths';

let workDir: string;
let bundle: string;

beforeAll(async () => {
  await buildToolchain();
  workDir = await fs.mkdtemp(path.join(tmpdir(), 'edgespec-build-cli-'));
  bundle = path.join(workDir, 'bundle');
  await writeHalfInputBundle(bundle, SMALL_GRAPHS.sequence());
});

afterAll(async () => {
  await fs.rm(workDir, { recursive: true, force: true });
});

test('--json prints progress per stage, then the result', async () => {
  const out = path.join(workDir, 'json-build');
  const run = await runCli(['build', bundle, '--target', 'host', '--out', out, '--json']);
  expect(run.exitCode).toBe(0);
  const events = jsonEvents(run.stdout);
  const stages = new Set(events.filter(e => e.event === 'progress').map(e => (e as { stage: string }).stage));
  for (const stage of ['load', 'passes', 'plan', 'codegen', 'compile', 'link', 'footprint']) expect(stages).toContain(stage);
  const compile = events.filter(e => e.event === 'progress' && e.stage === 'compile') as { done: number; total: number }[];
  expect(compile[compile.length - 1].done).toBe(compile[compile.length - 1].total);
  const last = events[events.length - 1];
  expect(last).toMatchObject({ event: 'result', command: 'build', data: { dir: out, manifest: { model: 'sequence', target: 'host' } } });
});

test('without --json it prints a summary a person can read', async () => {
  const run = await runCli(['build', bundle, '--target', 'host']);
  expect(run.exitCode).toBe(0);
  expect(run.stdout).toMatch(/built sequence for host in .*build\/host/);
  expect(run.stdout).toMatch(/overhead/);
  expect(existsSync(path.join(bundle, 'build', 'host', 'build.json'))).toBe(true);
});

test('a missing cross compiler fails first, with the command that installs it', async () => {
  const out = path.join(workDir, 'no-compiler');
  const run = await runCli(['build', bundle, '--out', out, '--json'], { PATH: path.join(workDir, 'empty-path') });
  expect(run.exitCode).toBe(1);
  const error = jsonEvents(run.stdout).find(e => e.event === 'error') as { code: string; message: string; hint: string };
  expect(error.code).toBe('missing-tool');
  expect(error.message).toMatch(/cross compiler/);
  expect(error.hint).toMatch(/apt-get install -y gcc-aarch64-linux-gnu/);
  expect(existsSync(out)).toBe(false);
  expectNoStackTrace(run);
});

test('an unknown target is a usage error', async () => {
  const run = await runCli(['build', bundle, '--target', 'riscv']);
  expect(run.exitCode).toBe(2);
  expect(run.stderr).toMatch(/qemu-virt, host/);
});

test('with --json a usage error is also an error event, for programs that read stdout only', async () => {
  const run = await runCli(['build', bundle, '--dtype', 'int16', '--json']);
  expect(run.exitCode).toBe(2);
  expect(jsonEvents(run.stdout)).toEqual([
    { event: 'error', code: 'usage', message: expect.stringMatching(/'int16' is invalid.*float32, int8/), hint: 'see edgespec build --help' }
  ]);
});

test('a directory that is not a bundle gets a clear error, not a stack trace', async () => {
  const run = await runCli(['build', workDir, '--target', 'host']);
  expect(run.exitCode).toBe(1);
  expect(run.stderr).toMatch(/not an edgespec bundle/);
  expectNoStackTrace(run);
});

test('SIGTERM during a build stops it with a clear error and leaves neither the build nor its staging directory', async () => {
  const parent = path.join(workDir, 'interrupted');
  await fs.mkdir(parent);
  const out = path.join(parent, 'build');
  const child = execa(process.execPath, [repoPath('bin', 'edgespec'), 'build', bundle, '--target', 'host', '--out', out, '--json'], {
    reject: false,
    env: { EDGESPEC_CACHE_DIR: 'off' }
  });
  // The staging directory appears once the model is lowered, before the compiler runs.
  const deadline = Date.now() + 60_000;
  while (!(await fs.readdir(parent)).some(name => name.includes('.tmp-'))) {
    if (Date.now() > deadline) throw new Error('the build never created its staging directory');
    await new Promise(resolve => setTimeout(resolve, 20));
  }
  child.kill('SIGTERM');
  const run = await child;
  expect(run.exitCode).toBe(143);
  const last = jsonEvents(run.stdout).pop();
  expect(last).toMatchObject({ event: 'error', code: 'interrupted' });
  expect(await fs.readdir(parent)).toEqual([]);
  expectNoStackTrace({ exitCode: run.exitCode, stdout: run.stdout, stderr: run.stderr });
});
