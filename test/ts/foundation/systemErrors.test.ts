// Errors of the user's files and system said as such (path, errno, fix), never as a bug in edgespec.
import execa from 'execa';
import { promises as fs } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { fromSystemError } from '../../../src/toolchain/errors';
import { buildToolchain, CliRun, expectNoStackTrace, jsonEvents, runCli } from './cliProcess';
import { writeTinyBundle } from './tinyBundle';

let workDir: string;

beforeAll(async () => {
  workDir = await fs.mkdtemp(path.join(tmpdir(), 'edgespec-system-errors-'));
});

afterAll(async () => {
  await fs.rm(workDir, { recursive: true, force: true });
});

/** The error a real fs call throws. */
async function errorOf(call: () => Promise<unknown>): Promise<unknown> {
  try {
    await call();
  } catch (e) {
    return e;
  }
  throw new Error('the call did not fail');
}

describe('fromSystemError', () => {
  test.each([
    ['ENOTDIR', 'not-a-directory', async (d: string) => { await fs.writeFile(path.join(d, 'f'), ''); return fs.mkdir(path.join(d, 'f', 'sub')); }, 'f/sub'],
    ['EISDIR', 'is-a-directory', async (d: string) => fs.writeFile(d, ''), ''],
    ['ENOENT', 'not-found', async (d: string) => fs.readFile(path.join(d, 'absent')), 'absent'],
    ['ENAMETOOLONG', 'name-too-long', async (d: string) => fs.writeFile(path.join(d, 'n'.repeat(300)), ''), 'nnnn'],
    ['ELOOP', 'symlink-loop', async (d: string) => { await fs.symlink('loop', path.join(d, 'loop')); return fs.readFile(path.join(d, 'loop')); }, 'loop'],
    ['EEXIST', 'already-exists', async (d: string) => { await fs.mkdir(path.join(d, 'twice')); return fs.mkdir(path.join(d, 'twice')); }, 'twice']
  ])('a real %s names the path, the errno and a fix', async (errno, code, call, name) => {
    const dir = await fs.mkdtemp(path.join(workDir, 'real-'));
    const mapped = fromSystemError(await errorOf(() => call(dir)));
    expect(mapped).toMatchObject({ code, details: { errno } });
    expect(mapped!.message).toContain(path.join(dir, name));
    expect(mapped!.message).toContain(`(${errno})`);
    expect(mapped!.hint).toBeTruthy();
    expect(mapped!.hint).not.toMatch(/bug in edgespec/);
  });

  // Errors a test cannot cause as root on any machine, shaped as Node shapes them.
  test.each([
    ['ENOSPC', 'write', 'disk-full', /no space left on the device \(ENOSPC\)/, /free space on the file system that holds \/data\/out/],
    ['EDQUOT', 'write', 'disk-quota-exceeded', /quota is used up \(EDQUOT\)/, /quota/],
    ['EROFS', 'mkdir', 'read-only-file-system', /cannot create the directory \/data\/out: the file system is read-only \(EROFS\)/, /writable file system/],
    ['EACCES', 'open', 'permission-denied', /cannot open \/data\/out: permission denied \(EACCES\)/, /access to \/data\/out/],
    ['EPERM', 'rename', 'permission-denied', /operation not permitted \(EPERM\)/, /permissions/],
    ['EMFILE', 'open', 'too-many-open-files', /too many files open \(EMFILE\)/, /ulimit -n/],
    ['EIO', 'read', 'io-error', /input\/output error .* \(EIO\)/, /dmesg/]
  ])('%s from %s', (errno, syscall, code, message, hint) => {
    const e = Object.assign(new Error(`${errno}: something, ${syscall} '/data/out'`), { code: errno, errno: -1, syscall, path: '/data/out' });
    const mapped = fromSystemError(e);
    expect(mapped).toMatchObject({ code, details: { errno, syscall, path: '/data/out' } });
    expect(mapped!.message).toMatch(message);
    expect(mapped!.hint).toMatch(hint);
  });

  test('an errno without an entry still names the path and the errno', () => {
    const mapped = fromSystemError(Object.assign(new Error('EWHATEVER: odd, open \'/x\''), { code: 'EWHATEVER', syscall: 'open', path: '/x' }));
    expect(mapped).toMatchObject({ code: 'system-error' });
    expect(mapped!.message).toBe('cannot open /x: odd, open \'/x\'');
    expect(mapped!.hint).toMatch(/EWHATEVER/);
  });

  test('anything else is not a system error: a true bug stays a bug', () => {
    expect(fromSystemError(new TypeError('x is undefined'))).toBeUndefined();
    expect(fromSystemError(Object.assign(new Error('bad argument'), { code: 'ERR_INVALID_ARG_TYPE' }))).toBeUndefined();
    expect(fromSystemError('a string')).toBeUndefined();
  });
});

/** A tmpfs mounted for the test (root only); undefined where mounting is not allowed. */
async function mountTmpfs(dir: string, options: string): Promise<string | undefined> {
  await fs.mkdir(dir, { recursive: true });
  const mounted = await execa('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir], { reject: false });
  return mounted.exitCode === 0 ? dir : undefined;
}

async function unmount(dir: string | undefined): Promise<void> {
  if (dir) await execa('umount', [dir], { reject: false });
}

function cliError(run: CliRun): { code: string; message: string; hint?: string } {
  const error = jsonEvents(run.stdout).find(e => e.event === 'error') as { code: string; message: string; hint?: string } | undefined;
  if (!error) throw new Error(`no error event in:\n${run.stdout}\n${run.stderr}`);
  return error;
}

describe('the CLI on a read-only or full file system', () => {
  let bundle: string;
  const mounts: string[] = [];

  beforeAll(async () => {
    await buildToolchain();
    bundle = writeTinyBundle(path.join(workDir, 'bundle'));
  });

  afterAll(async () => {
    for (const m of mounts) await unmount(m);
  });

  test('build --out on a read-only file system: EROFS and the output path, exit 1', async () => {
    const ro = await mountTmpfs(path.join(workDir, 'ro'), 'ro,size=1m');
    if (!ro) return console.warn('skipped: cannot mount a tmpfs here (not root)');
    mounts.push(ro);
    const out = path.join(ro, 'build');
    const run = await runCli(['build', bundle, '--target', 'host', '--out', out, '--json'], { EDGESPEC_CACHE_DIR: 'off' });
    expect(run.exitCode).toBe(1);
    const error = cliError(run);
    expect(error.code).toBe('read-only-file-system');
    expect(error.message).toContain(out);
    expect(error.message).toContain('(EROFS)');
    expect(error.hint).toMatch(/writable file system/);
    expect(`${run.stdout}${run.stderr}`).not.toMatch(/bug in edgespec|unexpected failure/);
    expectNoStackTrace(run);
  });

  test('build --out on a full file system: ENOSPC, and no staging directory left on it', async () => {
    const small = await mountTmpfs(path.join(workDir, 'full'), 'size=32k');
    if (!small) return console.warn('skipped: cannot mount a tmpfs here (not root)');
    mounts.push(small);
    const out = path.join(small, 'build');
    const run = await runCli(['build', bundle, '--target', 'host', '--out', out, '--json'], { EDGESPEC_CACHE_DIR: 'off' });
    expect(run.exitCode).toBe(1);
    const error = cliError(run);
    expect(['disk-full', 'build-disk-failed']).toContain(error.code);
    expect(error.message).toMatch(/ENOSPC/);
    expect(error.message).toContain(small);
    expect(error.hint).toMatch(/free space/);
    expect(`${run.stdout}${run.stderr}`).not.toMatch(/bug in edgespec|unexpected failure/);
    expect((await fs.readdir(small)).filter(name => name.includes('.tmp-'))).toEqual([]);
    expectNoStackTrace(run);
  });
});
