import { existsSync, promises as fs } from 'fs';
import { EdgespecError } from '../errors';

function notABuild(dir: string): EdgespecError {
  return new EdgespecError('out-not-build', `${dir} exists and is not an edgespec build directory`, 'choose another --out directory, or empty this one');
}

/** Fails unless `dir` is absent, empty, or an earlier build (it has build.json). */
export async function assertReplaceable(dir: string): Promise<void> {
  if (!existsSync(dir)) return;
  const stat = await fs.stat(dir);
  if (!stat.isDirectory()) throw notABuild(dir);
  const entries = await fs.readdir(dir);
  if (entries.length > 0 && !entries.includes('build.json')) throw notABuild(dir);
}

/** Replaces `finalDir` with the finished `tmp` directory; refuses to replace anything but a build. */
export async function publish(tmp: string, finalDir: string): Promise<void> {
  await assertReplaceable(finalDir);
  if (existsSync(finalDir)) {
    const old = `${tmp}.old`;
    await fs.rename(finalDir, old);
    await fs.rename(tmp, finalDir);
    await fs.rm(old, { recursive: true, force: true });
  } else {
    await fs.rename(tmp, finalDir);
  }
}

