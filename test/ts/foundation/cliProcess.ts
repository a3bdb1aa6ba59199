import execa from 'execa';
import { existsSync, mkdirSync, readdirSync, rmdirSync, statSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { CliEvent } from '../../../src/common/types';
import { repoPath, repoRoot } from '../../../src/toolchain/paths';

const LOCK = path.join(tmpdir(), `edgespec-toolchain-build-${Buffer.from(repoRoot).toString('hex').slice(-16)}.lock`);
const STALE_LOCK_MS = 120_000;

/** The sources these tests exercise through bin/edgespec: a type error here fails the tests. */
const EXERCISED = ['src/common/', 'src/toolchain/bundle/', 'src/toolchain/doctor/', 'src/toolchain/ops/', 'src/toolchain/commands/', 'src/toolchain/cli.ts', 'src/toolchain/events.ts', 'src/toolchain/errors.ts', 'src/toolchain/paths.ts'];

/**
 * Compiles src/ into lib/ (what bin/edgespec runs) when a source changed since the last compile,
 * once at a time: test files running in parallel workers would otherwise rewrite lib/ under each
 * other's subprocesses (a CLI that loads a half-written lib/ file exits 1). tsc emits
 * even with type errors; errors in other parts of the toolchain are reported, not fatal here
 * (the CI's build step fails on them).
 */
export async function buildToolchain(): Promise<void> {
  await acquireLock();
  try {
    // tsc rewrites every file of lib/ even when nothing changed, and a CLI another worker runs at
    // that moment may load a half-written one: compile only when a source is newer than lib/
    if (libIsCurrent()) return;
    const tsc = repoPath('node_modules', 'typescript', 'bin', 'tsc');
    const result = await execa(process.execPath, [tsc, '-p', 'tsconfig.toolchain.json', '--pretty', 'false'], { cwd: repoRoot, reject: false });
    if (result.exitCode === 0) return;
    const diagnostics = `${result.stdout}\n${result.stderr}`.trim();
    const ours = diagnostics.split('\n').filter(line => EXERCISED.some(prefix => line.startsWith(prefix)));
    if (ours.length > 0 || !existsSync(repoPath('lib', 'toolchain', 'cli.js'))) {
      throw new Error(`the toolchain does not compile (npx tsc -p tsconfig.toolchain.json):\n${diagnostics}`);
    }
    console.warn(`type errors outside the parts under test (the CI build fails on them):\n${diagnostics}`);
  } finally {
    rmdirSync(LOCK);
  }
}

/** lib/toolchain/cli.js is newer than every file under src/toolchain and src/common and the tsconfigs. */
function libIsCurrent(): boolean {
  const cli = repoPath('lib', 'toolchain', 'cli.js');
  if (!existsSync(cli)) return false;
  const built = statSync(cli).mtimeMs;
  const newest = (entry: string): number => {
    const stat = statSync(entry);
    if (!stat.isDirectory()) return stat.mtimeMs;
    return readdirSync(entry).reduce((latest, name) => Math.max(latest, newest(path.join(entry, name))), stat.mtimeMs);
  };
  const sources = [repoPath('src', 'toolchain'), repoPath('src', 'common'), repoPath('tsconfig.toolchain.json'), repoPath('tsconfig.base.json')];
  return sources.every(source => newest(source) < built);
}

async function acquireLock(): Promise<void> {
  for (;;) {
    try {
      mkdirSync(LOCK);
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      try {
        if (Date.now() - statSync(LOCK).mtimeMs > STALE_LOCK_MS) rmdirSync(LOCK);
      } catch {
        // released meanwhile
      }
      await new Promise(resolve => setTimeout(resolve, 200));
    }
  }
}

export interface CliRun {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export async function runCli(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 300_000): Promise<CliRun> {
  const result = await execa(process.execPath, [repoPath('bin', 'edgespec'), ...args], { cwd: repoRoot, reject: false, env, timeout: timeoutMs });
  if (result.timedOut) throw new Error(`edgespec ${args.join(' ')} did not finish in ${timeoutMs} ms`);
  return { exitCode: result.exitCode, stdout: result.stdout, stderr: result.stderr };
}

/** Every stdout line of a --json run, each parsed (a non-JSON line fails the test). */
export function jsonEvents(stdout: string): CliEvent[] {
  return stdout
    .split('\n')
    .filter(line => line.trim() !== '')
    .map(line => {
      try {
        return JSON.parse(line) as CliEvent;
      } catch {
        throw new Error(`--json printed a line that is not JSON: ${line}`);
      }
    });
}

/** A Node stack frame ("    at fn (file.js:1:2)") means an error reached the user unhandled. */
export function expectNoStackTrace(run: CliRun): void {
  const text = `${run.stdout}\n${run.stderr}`;
  expect(text).not.toMatch(/^\s+at .*(:\d+:\d+\)?|<anonymous>)$/m);
  expect(text).not.toMatch(/Traceback \(most recent call last\)/);
}
