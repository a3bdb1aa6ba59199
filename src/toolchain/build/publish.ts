import { constants, existsSync, promises as fs, renameSync, rmSync } from 'fs';
import { EdgespecError } from '../errors';
import { onInterrupt } from '../interrupt';
import { foreignEntries } from './buildDirContents';
import { retiredDirFor } from './staging';

/** build.json of an edgespec build is a few KB; a larger one is not ours. */
const MANIFEST_MAX_BYTES = 16 * 1024 * 1024;
const SHOWN_ENTRIES = 8;

function notABuild(dir: string, why: string, hint = `choose another --out directory, or move ${dir} away first`): EdgespecError {
  return new EdgespecError('out-not-build', `${dir} exists and is not a build directory that edgespec made (${why}); nothing in it was changed`, hint);
}

function listNames(names: string[]): string {
  const shown = names.slice(0, SHOWN_ENTRIES).join(', ');
  return names.length > SHOWN_ENTRIES ? `${shown} and ${names.length - SHOWN_ENTRIES} more` : shown;
}

/** The `format` and `target` of DIR/build.json, or why it is not an edgespec manifest. */
async function readManifest(file: string): Promise<{ format?: unknown; target?: unknown } | string> {
  let handle;
  try {
    // O_NONBLOCK: a FIFO named build.json must not hang the build; O_NOFOLLOW: nor a link lead elsewhere
    handle = await fs.open(file, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW | constants.O_NOCTTY);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return 'it has no build.json';
    if (code === 'ELOOP') return 'its build.json is a symbolic link';
    throw e;
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) return 'its build.json is not a regular file';
    if (stat.size > MANIFEST_MAX_BYTES) return `its build.json is ${stat.size} bytes, far more than edgespec writes`;
    const text = (await handle.readFile()).toString('utf8');
    const manifest = JSON.parse(text) as unknown;
    if (typeof manifest !== 'object' || manifest === null || Array.isArray(manifest)) return 'its build.json is not a JSON object';
    return manifest as { format?: unknown; target?: unknown };
  } catch (e) {
    if (e instanceof SyntaxError) return 'its build.json is not JSON';
    throw e;
  } finally {
    await handle.close();
  }
}

/**
 * Fails unless `dir` is absent, empty, or a directory that edgespec made: its build.json has
 * format edgespec.build and everything in it is something a build, a run or an archive of the
 * build writes. Anything else would be lost when the build replaces the directory.
 */
export async function assertReplaceable(dir: string): Promise<void> {
  let stat;
  try {
    stat = await fs.lstat(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  if (!stat.isDirectory()) throw notABuild(dir, stat.isSymbolicLink() ? 'it is a symbolic link' : 'it is not a directory');
  const names = await fs.readdir(dir);
  if (names.length === 0) return;
  const manifest = await readManifest(`${dir}/build.json`);
  if (typeof manifest === 'string') throw notABuild(dir, `${manifest}; it holds ${listNames(names.sort())}`);
  if (manifest.format !== 'edgespec.build') {
    throw notABuild(dir, `its build.json has format ${JSON.stringify(manifest.format ?? null)}, not "edgespec.build"; it holds ${listNames(names.sort())}`);
  }
  const foreign = await foreignEntries(dir, typeof manifest.target === 'string' ? manifest.target : undefined);
  if (foreign.length > 0) {
    throw notABuild(
      dir,
      `besides an edgespec build it holds ${foreign.length === 1 ? 'an entry' : `${foreign.length} entries`} that edgespec does not write: ${listNames(foreign)}`,
      `a build replaces the whole directory: move ${foreign.length === 1 ? 'that entry' : 'those entries'} out of ${dir}, or choose another --out directory`
    );
  }
}

/**
 * TEST ONLY: when EDGESPEC_TEST_ONLY_PUBLISH_PAUSE names a file, publish creates that file
 * between its two renames (the previous build moved aside, the new one not yet in place) and
 * waits until the file is removed (at most a minute), so that a test can send a signal in
 * exactly that window. Never set it outside the tests.
 */
export const TEST_ONLY_PUBLISH_PAUSE_ENV = 'EDGESPEC_TEST_ONLY_PUBLISH_PAUSE';

async function pauseForTests(): Promise<void> {
  const marker = process.env[TEST_ONLY_PUBLISH_PAUSE_ENV];
  if (!marker) return;
  await fs.writeFile(marker, `${process.pid}\n`);
  const deadline = Date.now() + 60_000;
  while (existsSync(marker) && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 20));
}

/** Puts the previous build back when the new one did not get into its place. */
function restorePrevious(retired: string, finalDir: string): void {
  if (existsSync(retired) && !existsSync(finalDir)) renameSync(retired, finalDir);
}

/**
 * Replaces `finalDir` with the finished `staging` directory; refuses to replace anything but a
 * build. The previous build is moved aside, the new one renamed in, and the old one removed.
 * Between the two renames no signal handler can run (they are synchronous); if one does
 * anyway (the test pause) it puts the previous build back, and so does the next build when
 * this process was killed there (see sweepDeadBuilds).
 */
export async function publish(staging: string, finalDir: string): Promise<void> {
  await assertReplaceable(finalDir);
  if (!existsSync(finalDir)) {
    await fs.rename(staging, finalDir);
    return;
  }
  const retired = retiredDirFor(staging);
  const forget = onInterrupt(() => restorePrevious(retired, finalDir));
  try {
    renameSync(finalDir, retired);
    await pauseForTests();
    try {
      renameSync(staging, finalDir);
    } catch (e) {
      restorePrevious(retired, finalDir);
      throw e;
    }
  } finally {
    forget();
  }
  try {
    rmSync(retired, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 });
  } catch {
    // the new build is in place; the next build sweeps what is left of the old one
  }
}
