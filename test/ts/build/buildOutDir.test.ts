// What `edgespec build --out DIR` may replace, how it publishes, and what a failed build leaves:
// the real CLI in a subprocess, real signals, real files.
import execa from 'execa';
import { existsSync, promises as fs, statSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { buildToolchain, CliRun, expectNoStackTrace, jsonEvents, runCli } from '../foundation/cliProcess';
import { writeHalfInputBundle } from './helpers/graphBuilder';
import { SMALL_GRAPHS } from './helpers/smallGraphs';
import { repoPath } from '../../../src/toolchain/paths';

let workDir: string;
let bundle: string;
let goodBuild: string;

const NO_CACHE = { EDGESPEC_CACHE_DIR: 'off' };

beforeAll(async () => {
  await buildToolchain();
  workDir = await fs.mkdtemp(path.join(tmpdir(), 'edgespec-build-out-'));
  bundle = path.join(workDir, 'bundle');
  await writeHalfInputBundle(bundle, SMALL_GRAPHS.sequence());
  goodBuild = path.join(workDir, 'good');
  const run = await runCli(['build', bundle, '--target', 'host', '--out', goodBuild]);
  expect(run.exitCode).toBe(0);
});

afterAll(async () => {
  await fs.rm(workDir, { recursive: true, force: true });
});

/** Every file under `dir` with its content, to compare before and after. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  const walk = async (sub: string) => {
    for (const entry of await fs.readdir(path.join(dir, sub), { withFileTypes: true })) {
      const rel = path.join(sub, entry.name);
      if (entry.isDirectory()) await walk(rel);
      else files[rel] = entry.isFile() ? (await fs.readFile(path.join(dir, rel))).toString('base64') : `(${entry.isSymbolicLink() ? 'link' : 'special'})`;
    }
  };
  await walk('');
  return files;
}

async function copyBuild(to: string): Promise<void> {
  await fs.cp(goodBuild, to, { recursive: true });
}

function errorOf(run: CliRun): { code: string; message: string; hint?: string } {
  const error = jsonEvents(run.stdout).find(e => e.event === 'error') as { code: string; message: string; hint?: string } | undefined;
  if (!error) throw new Error(`no error event in:\n${run.stdout}\n${run.stderr}`);
  return error;
}

async function stagingLeftovers(parent: string): Promise<string[]> {
  return (await fs.readdir(parent)).filter(name => name.includes('.tmp-'));
}

describe('build --out replaces only a directory that edgespec made', () => {
  test('a foreign build.json (another tool\'s) is refused, and nothing in the directory changes', async () => {
    const site = path.join(workDir, 'site');
    await fs.mkdir(site);
    await fs.writeFile(path.join(site, 'build.json'), '{"name":"webpack"}\n');
    await fs.writeFile(path.join(site, 'thesis.txt'), 'precious\n');
    const before = await snapshot(site);
    const run = await runCli(['build', bundle, '--target', 'host', '--out', site, '--json'], NO_CACHE);
    expect(run.exitCode).toBe(1);
    const error = errorOf(run);
    expect(error.code).toBe('out-not-build');
    expect(error.message).toContain(site);
    expect(error.message).toMatch(/format null, not "edgespec\.build".*thesis\.txt.*nothing in it was changed/);
    expect(await snapshot(site)).toEqual(before);
    expect(await stagingLeftovers(workDir)).toEqual([]);
    expectNoStackTrace(run);
  });

  test.each([
    ['a file of the user\'s', async (dir: string) => fs.writeFile(path.join(dir, 'notes.txt'), 'mine'), 'notes.txt'],
    ['a directory of the user\'s', async (dir: string) => fs.mkdir(path.join(dir, 'data')), 'data/'],
    ['a file of the user\'s inside obj/', async (dir: string) => fs.writeFile(path.join(dir, 'obj', 'keep.c'), 'int x;'), 'obj/keep.c'],
    ['a symbolic link', async (dir: string) => fs.symlink('/etc', path.join(dir, 'etc')), 'etc']
  ])('an edgespec build that also holds %s is refused, naming it', async (_what, add, name) => {
    const out = path.join(workDir, `mixed-${name.replace(/\W/g, '_')}`);
    await copyBuild(out);
    await add(out);
    const before = await snapshot(out);
    const run = await runCli(['build', bundle, '--target', 'host', '--out', out, '--json'], NO_CACHE);
    expect(run.exitCode).toBe(1);
    const error = errorOf(run);
    expect(error.code).toBe('out-not-build');
    expect(error.message).toContain(`does not write: ${name}`);
    expect(error.hint).toMatch(/move that entry out of/);
    expect(await snapshot(out)).toEqual(before);
  });

  test('a build directory with what run and the server add (run.json, run-outputs/, the archive) is replaced', async () => {
    const out = path.join(workDir, 'ran');
    await copyBuild(out);
    await fs.writeFile(path.join(out, 'run.json'), '{}');
    await fs.mkdir(path.join(out, 'run-outputs'));
    await fs.writeFile(path.join(out, 'run-outputs', '0-y.npy'), 'npy');
    await fs.writeFile(path.join(out, 'sequence-host.zip'), 'zip');
    const run = await runCli(['build', bundle, '--target', 'host', '--out', out], NO_CACHE);
    expect({ exitCode: run.exitCode, stderr: run.exitCode === 0 ? '' : run.stderr }).toEqual({ exitCode: 0, stderr: '' });
    expect((await fs.readdir(out)).sort()).toEqual((await fs.readdir(goodBuild)).sort());
  });

  test('an --out that is a file is refused and kept', async () => {
    const file = path.join(workDir, 'a-file');
    await fs.writeFile(file, 'text');
    const run = await runCli(['build', bundle, '--target', 'host', '--out', file, '--json'], NO_CACHE);
    expect(run.exitCode).toBe(1);
    expect(errorOf(run).code).toBe('out-not-build');
    expect(await fs.readFile(file, 'utf8')).toBe('text');
  });
});

describe('publish is safe in the window between its two renames', () => {
  /** Starts a build of `out` that pauses between publish's renames; resolves once it is there. */
  async function buildPausedInPublish(out: string, marker: string): Promise<{ child: execa.ExecaChildProcess }> {
    const child = execa(process.execPath, [repoPath('bin', 'edgespec'), 'build', bundle, '--target', 'host', '--out', out, '--json'], {
      reject: false,
      env: { ...NO_CACHE, EDGESPEC_TEST_ONLY_PUBLISH_PAUSE: marker }
    });
    const deadline = Date.now() + 120_000;
    while (!existsSync(marker)) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`the build never reached publish: ${(await child).stdout}`);
      await new Promise(resolve => setTimeout(resolve, 20));
    }
    // in the window: the previous build is moved aside, the new one is not in place yet
    expect(existsSync(out)).toBe(false);
    return { child }; // wrapped: an async function would wait for a returned child (it is a promise)
  }

  test('SIGTERM there puts the previous build back and says nothing was published', async () => {
    const parent = path.join(workDir, 'term-window');
    const out = path.join(parent, 'build');
    await fs.mkdir(parent);
    await copyBuild(out);
    const before = await snapshot(out);
    const inode = statSync(path.join(out, 'build.json')).ino;
    const { child } = await buildPausedInPublish(out, path.join(workDir, 'term.marker'));
    child.kill('SIGTERM');
    const run = await child;
    expect(run.exitCode).toBe(143);
    expect(jsonEvents(run.stdout).pop()).toMatchObject({ event: 'error', code: 'interrupted', message: expect.stringMatching(/nothing was published/) });
    expect(await snapshot(out)).toEqual(before);
    expect(statSync(path.join(out, 'build.json')).ino).toBe(inode);
    expect(await fs.readdir(parent)).toEqual(['build']);
  });

  test('SIGKILL there: the next build puts the previous build back before anything else', async () => {
    const parent = path.join(workDir, 'kill-window');
    const out = path.join(parent, 'build');
    await fs.mkdir(parent);
    await copyBuild(out);
    const before = await snapshot(out);
    const inode = statSync(path.join(out, 'build.json')).ino;
    const { child } = await buildPausedInPublish(out, path.join(workDir, 'kill.marker'));
    child.kill('SIGKILL');
    await child;
    expect(existsSync(out)).toBe(false);
    expect((await fs.readdir(parent)).some(name => name.endsWith('.old'))).toBe(true);

    // even a build that then fails (its bundle does not exist) restores the previous build first
    const next = await runCli(['build', path.join(workDir, 'no-such-bundle'), '--target', 'host', '--out', out, '--json'], NO_CACHE);
    expect(next.exitCode).toBe(1);
    expect(errorOf(next).code).toBe('bundle-not-found');
    expect(jsonEvents(next.stdout).some(e => e.event === 'log' && /restored the previous build/.test((e as { message: string }).message))).toBe(true);
    expect(await snapshot(out)).toEqual(before);
    expect(statSync(path.join(out, 'build.json')).ino).toBe(inode);
    expect(await fs.readdir(parent)).toEqual(['build']);
  });

  test('without a signal the paused publish completes: the new build replaces the old one', async () => {
    const parent = path.join(workDir, 'calm-window');
    const out = path.join(parent, 'build');
    await fs.mkdir(parent);
    await copyBuild(out);
    const inode = statSync(path.join(out, 'build.json')).ino;
    const marker = path.join(workDir, 'calm.marker');
    const { child } = await buildPausedInPublish(out, marker);
    await fs.rm(marker);
    const run = await child;
    expect(run.exitCode).toBe(0);
    expect(statSync(path.join(out, 'build.json')).ino).not.toBe(inode);
    expect(await fs.readdir(parent)).toEqual(['build']);
  });
});

describe('a failed build keeps its log where it survives', () => {
  /** A `gcc` first on PATH that runs the real one, except as `script` says. */
  async function fakeGcc(name: string, script: string): Promise<NodeJS.ProcessEnv> {
    const bin = path.join(workDir, `bin-${name}`);
    await fs.mkdir(bin);
    await fs.writeFile(path.join(bin, 'gcc'), `#!/bin/sh\n${script}\n`, { mode: 0o755 });
    return { ...NO_CACHE, PATH: `${bin}${path.delimiter}${process.env.PATH}` };
  }

  test('a compile error names OUT.failed-build.log, which holds the output; the next good build removes it', async () => {
    const env = await fakeGcc('fails-on-model', 'for a in "$@"; do case "$a" in model.c) echo "model.c:1:1: error: injected failure" >&2; exit 1;; esac; done\nexec /usr/bin/gcc "$@"');
    const parent = path.join(workDir, 'failing');
    const out = path.join(parent, 'build');
    await fs.mkdir(parent);
    await copyBuild(out);
    const before = await snapshot(out);
    const run = await runCli(['build', bundle, '--target', 'host', '--out', out, '--json'], env);
    expect(run.exitCode).toBe(1);
    const error = errorOf(run);
    const log = `${out}.failed-build.log`;
    expect(error.code).toBe('compile-failed');
    expect(error.hint).toContain(log);
    expect(await fs.readFile(log, 'utf8')).toMatch(/^# edgespec build [\s\S]*injected failure/);
    expect(await snapshot(out)).toEqual(before);
    expect((await fs.readdir(parent)).sort()).toEqual(['build', 'build.failed-build.log']);

    const good = await runCli(['build', bundle, '--target', 'host', '--out', out], NO_CACHE);
    expect(good.exitCode).toBe(0);
    expect(await fs.readdir(parent)).toEqual(['build']);
  });

  test('a file of the user\'s with the log\'s name is neither overwritten nor removed', async () => {
    const env = await fakeGcc('fails-again', 'for a in "$@"; do case "$a" in model.c) echo "error: injected" >&2; exit 1;; esac; done\nexec /usr/bin/gcc "$@"');
    const out = path.join(workDir, 'users-log', 'build');
    await fs.mkdir(path.dirname(out));
    await fs.writeFile(`${out}.failed-build.log`, 'my own notes');
    const run = await runCli(['build', bundle, '--target', 'host', '--out', out, '--json'], env);
    expect(run.exitCode).toBe(1);
    expect(errorOf(run).hint).not.toContain('failed-build.log');
    expect(await runCli(['build', bundle, '--target', 'host', '--out', out], NO_CACHE)).toMatchObject({ exitCode: 0 });
    expect(await fs.readFile(`${out}.failed-build.log`, 'utf8')).toBe('my own notes');
  });

  test.each([
    ['exits with an error whatever it is asked', 'echo "gcc: fatal error: cannot execute cc1" >&2; exit 4'],
    ['is not a program (a file of bytes)', null]
  ])('a compiler that %s is the environment\'s problem, named with its path, not a bug in edgespec', async (what, script) => {
    const env = await fakeGcc(`broken-${script ? 'exit' : 'bytes'}`, script ?? '');
    const gcc = path.join(workDir, `bin-broken-${script ? 'exit' : 'bytes'}`, 'gcc');
    if (!script) await fs.writeFile(gcc, Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 1, 2, 3, 0xff, 0xfe]), { mode: 0o755 });
    const out = path.join(workDir, `broken-${script ? 'exit' : 'bytes'}`);
    const run = await runCli(['build', bundle, '--target', 'host', '--out', out, '--json'], env);
    expect(run.exitCode).toBe(1);
    const error = errorOf(run);
    expect(error.code).toBe('tool-broken');
    expect(error.message).toContain(`${gcc} does not work`);
    expect(`${error.message} ${error.hint}`).not.toMatch(/bug in edgespec/);
    expect(error.hint).toMatch(/reinstall it or put a working gcc first on PATH/);
    expect(existsSync(out)).toBe(false);
    expect(await stagingLeftovers(workDir)).toEqual([]);
    expectNoStackTrace(run);
  });
});
