import { promises as fs } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { isAlive } from '../processAlive';

/**
 * A run works in a private temporary directory named after the CLI's pid,
 * edgespec-run-<pid>-XXXXXX. A CLI killed with SIGKILL cannot remove its own; the next run
 * removes those whose process is gone.
 */
const PREFIX = 'edgespec-run-';
const NAME = /^edgespec-run-(\d+)-[A-Za-z0-9]{6}$/;

export async function makeWorkDir(): Promise<string> {
  await sweepStaleWorkDirs();
  return fs.mkdtemp(path.join(tmpdir(), `${PREFIX}${process.pid}-`));
}

/** Removes the work directories of runs whose process no longer exists (this user's only). */
export async function sweepStaleWorkDirs(dir = tmpdir()): Promise<string[]> {
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch {
    return [];
  }
  const uid = process.getuid?.();
  const swept: string[] = [];
  for (const name of names) {
    const pid = NAME.exec(name)?.[1];
    if (pid === undefined || Number(pid) === process.pid || isAlive(Number(pid))) continue;
    const full = path.join(dir, name);
    try {
      const stat = await fs.lstat(full);
      if (!stat.isDirectory() || (uid !== undefined && stat.uid !== uid)) continue;
      await fs.rm(full, { recursive: true, force: true });
      swept.push(full);
    } catch {
      // another run swept it first, or it is not ours to remove
    }
  }
  return swept;
}
