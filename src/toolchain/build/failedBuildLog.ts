import { constants, promises as fs } from 'fs';
import * as path from 'path';

/**
 * A failed build's staging directory is removed, and its build.log with it; the log is kept
 * beside the output instead (`OUT.failed-build.log`), named in the error, and removed by the
 * next build of OUT that succeeds.
 */
export function failedBuildLogPath(finalDir: string): string {
  return `${finalDir}.failed-build.log`;
}

/** Every build.log starts with the producer's note ("# edgespec build 0.1.0: model ..."). */
const LOG_START = '# edgespec build ';

/** Whether `file` is a log this module kept (never remove or overwrite a file of the user's). */
async function isKeptLog(file: string): Promise<boolean> {
  let handle;
  try {
    handle = await fs.open(file, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW | constants.O_NOCTTY);
  } catch {
    return false;
  }
  try {
    if (!(await handle.stat()).isFile()) return false;
    const head = Buffer.alloc(LOG_START.length);
    await handle.read(head, 0, head.length, 0);
    return head.toString('utf8') === LOG_START;
  } finally {
    await handle.close();
  }
}

async function exists(file: string): Promise<boolean> {
  return fs.lstat(file).then(() => true, () => false);
}

/**
 * Copies the staging directory's build.log beside the output; returns where, or undefined
 * when there is no log, or it cannot be written (a full disk), or a file of the user's has
 * that name.
 */
export async function keepFailedBuildLog(stagingDir: string, finalDir: string): Promise<string | undefined> {
  const kept = failedBuildLogPath(finalDir);
  try {
    const text = await fs.readFile(path.join(stagingDir, 'build.log'));
    if (!text.subarray(0, LOG_START.length).equals(Buffer.from(LOG_START))) return undefined;
    if ((await exists(kept)) && !(await isKeptLog(kept))) return undefined;
    const temporary = `${kept}.tmp-${process.pid}`;
    await fs.writeFile(temporary, text);
    await fs.rename(temporary, kept);
    return kept;
  } catch {
    await fs.rm(`${kept}.tmp-${process.pid}`, { force: true }).catch(() => undefined);
    return undefined;
  }
}

/** After a build of `finalDir` succeeded: the log of an earlier failure no longer applies. */
export async function removeFailedBuildLog(finalDir: string): Promise<void> {
  const kept = failedBuildLogPath(finalDir);
  if (await isKeptLog(kept)) await fs.rm(kept, { force: true });
}
