// Staging directories of interrupted and killed builds: real CLI processes, real signals.
import execa from 'execa';
import { existsSync, promises as fs, readdirSync, readlinkSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { buildToolchain, jsonEvents, runCli } from '../foundation/cliProcess';
import { writeHalfInputBundle } from './helpers/graphBuilder';
import { SMALL_GRAPHS } from './helpers/smallGraphs';
import { repoPath } from '../../../src/toolchain/paths';

let workDir: string;
let bundle: string;

// no object cache: every unit is compiled, so the compilers are running when the signal comes
const NO_CACHE = { EDGESPEC_CACHE_DIR: 'off' };

beforeAll(async () => {
  await buildToolchain();
  workDir = await fs.mkdtemp(path.join(tmpdir(), 'edgespec-build-interrupt-'));
  bundle = path.join(workDir, 'bundle');
  await writeHalfInputBundle(bundle, SMALL_GRAPHS.residual());
});

afterAll(async () => {
  await fs.rm(workDir, { recursive: true, force: true });
});

/** Starts a build of `out` and resolves once its compilers are running (`delayMs` after the first compile event). */
async function buildUntilCompiling(out: string, delayMs = 0): Promise<{ child: execa.ExecaChildProcess }> {
  const child = execa(process.execPath, [repoPath('bin', 'edgespec'), 'build', bundle, '--target', 'qemu-virt', '--out', out, '--json'], { reject: false, env: NO_CACHE });
  await new Promise<void>((resolve, reject) => {
    let seen = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      if (/"stage":"compile"/.test(seen)) resolve();
    });
    child.on('exit', () => reject(new Error(`the build ended before compiling: ${seen}`)));
  });
  if (delayMs) await new Promise(resolve => setTimeout(resolve, delayMs));
  return { child }; // wrapped: an async function would wait for a returned child (it is a promise)
}

/** Processes whose working directory is under `dir` (a compiler still writing there). */
function processesWorkingIn(dir: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter(p => /^\d+$/.test(p))) {
    try {
      const cwd = readlinkSync(`/proc/${pid}/cwd`);
      if (cwd.startsWith(dir)) found.push(`${pid} in ${cwd}`);
    } catch {
      // gone, or not ours to look at
    }
  }
  return found;
}

async function waitUntil(condition: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition() && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 50));
}

test.each([0, 40, 90, 150, 230, 330])('SIGINT %i ms into compiling stops the compilers first, then leaves nothing beside the output', async delayMs => {
  const parent = path.join(workDir, `sigint-${delayMs}`);
  await fs.mkdir(parent);
  const { child } = await buildUntilCompiling(path.join(parent, 'build'), delayMs);
  child.kill('SIGINT');
  const run = await child;
  expect(run.exitCode).toBe(130);
  expect(jsonEvents(run.stdout).pop()).toMatchObject({ event: 'error', code: 'interrupted' });
  // no compiler runs on in the removed directory, and nothing was written there after it was removed
  expect(processesWorkingIn(parent)).toEqual([]);
  await new Promise(resolve => setTimeout(resolve, 300));
  expect(await fs.readdir(parent)).toEqual([]);
});

test('SIGTERM while compiling ends with exit 143 and an empty parent', async () => {
  const parent = path.join(workDir, 'sigterm');
  await fs.mkdir(parent);
  const { child } = await buildUntilCompiling(path.join(parent, 'build'), 50);
  child.kill('SIGTERM');
  expect((await child).exitCode).toBe(143);
  expect(processesWorkingIn(parent)).toEqual([]);
  expect(await fs.readdir(parent)).toEqual([]);
});

test('a build killed by SIGKILL leaves its staging directory; the next build of that output removes it', async () => {
  const parent = path.join(workDir, 'sigkill');
  await fs.mkdir(parent);
  const out = path.join(parent, 'build');
  const { child } = await buildUntilCompiling(out, 100);
  const killedPid = child.pid!;
  child.kill('SIGKILL');
  await child;
  const left = (await fs.readdir(parent)).filter(name => name.startsWith(`.build.tmp-${killedPid}-`));
  expect(left).toHaveLength(1);

  // leftovers of processes still alive are not touched: this jest worker's pid is alive
  const alive = path.join(parent, `.build.tmp-${process.pid}-zz`);
  await fs.mkdir(alive);
  const next = await runCli(['build', bundle, '--target', 'qemu-virt', '--out', out, '--json'], NO_CACHE);
  expect(next.exitCode).toBe(0);
  const logs = jsonEvents(next.stdout).filter(e => e.event === 'log').map(e => (e as { message: string }).message);
  expect(logs).toEqual(expect.arrayContaining([expect.stringMatching(new RegExp(`removed ${left[0].replace(/\./g, '\\.')}, left by build process ${killedPid}`))]));
  // the killed build's compilers may still be finishing: they cannot bring the removed directory back
  await waitUntil(() => processesWorkingIn(parent).length === 0, 10_000);
  expect((await fs.readdir(parent)).sort()).toEqual([path.basename(alive), 'build'].sort());
  expect(existsSync(path.join(out, 'build.json'))).toBe(true);

  // a retired build of a dead process beside a present output is only a leftover: removed, the output kept
  const deadPid = (await execa('sh', ['-c', 'echo $$'])).stdout.trim();
  const retired = path.join(parent, `.build.tmp-${deadPid}-yy.old`);
  await fs.mkdir(path.join(retired, 'obj'), { recursive: true });
  const manifest = await fs.readFile(path.join(out, 'build.json'));
  const failing = await runCli(['build', path.join(workDir, 'no-such-bundle'), '--target', 'qemu-virt', '--out', out, '--json'], NO_CACHE);
  expect(failing.exitCode).toBe(1);
  expect(existsSync(retired)).toBe(false);
  expect(await fs.readFile(path.join(out, 'build.json'))).toEqual(manifest);
});
