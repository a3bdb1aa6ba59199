import { promises as fs } from 'fs';
import * as path from 'path';
import { isAlive } from '../processAlive';

/**
 * A build is written into a staging directory beside its output, `.NAME.tmp-PID-STAMP`, and
 * renamed into place at the end; the build it replaces is first moved aside to
 * `.NAME.tmp-PID-STAMP.old`. The PID in both names lets a later build tell the leftovers of a
 * process that died (SIGKILL, a crash, a power cut) from those of a build still running.
 */
export function stagingDirFor(finalDir: string): string {
  return path.join(path.dirname(finalDir), `.${path.basename(finalDir)}.tmp-${process.pid}-${Date.now().toString(36)}`);
}

/** Where the build being replaced waits while the new one is renamed into place. */
export function retiredDirFor(stagingDir: string): string {
  return `${stagingDir}.old`;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** `.NAME.tmp-PID-STAMP` and `.NAME.tmp-PID-STAMP.old` of one output NAME. */
function leftoverPattern(finalDir: string): RegExp {
  return new RegExp(`^\\.${escapeRegExp(path.basename(finalDir))}\\.tmp-(\\d+)-[0-9a-z]+(\\.old)?$`);
}


interface Leftover {
  path: string;
  pid: number;
  retired: boolean;
  mtimeMs: number;
}

async function leftoversOfDeadBuilds(finalDir: string): Promise<Leftover[]> {
  let names: string[];
  try {
    names = await fs.readdir(path.dirname(finalDir));
  } catch {
    return [];
  }
  const pattern = leftoverPattern(finalDir);
  const found: Leftover[] = [];
  for (const name of names) {
    const match = pattern.exec(name);
    if (!match || isAlive(Number(match[1]))) continue;
    const full = path.join(path.dirname(finalDir), name);
    try {
      const stat = await fs.lstat(full);
      if (stat.isDirectory()) found.push({ path: full, pid: Number(match[1]), retired: match[2] !== undefined, mtimeMs: stat.mtimeMs });
    } catch {
      // removed meanwhile
    }
  }
  return found;
}

async function exists(file: string): Promise<boolean> {
  return fs.lstat(file).then(() => true, () => false);
}

/**
 * Cleans up after builds of `finalDir` whose process is gone: when the output itself is
 * missing and a previous build waits beside it (the process died between publish's two
 * renames), that build is put back; every other staging or retired directory is removed.
 * Returns what it did, one sentence each, for the build's log.
 */
export async function sweepDeadBuilds(finalDir: string): Promise<string[]> {
  const leftovers = await leftoversOfDeadBuilds(finalDir);
  const done: string[] = [];
  const retired = leftovers.filter(l => l.retired).sort((a, b) => b.mtimeMs - a.mtimeMs);
  if (retired.length > 0 && !(await exists(finalDir))) {
    const restore = retired[0];
    try {
      await fs.rename(restore.path, finalDir);
      retired.shift();
      done.push(`restored the previous build ${finalDir} from ${path.basename(restore.path)} (build process ${restore.pid} stopped while publishing)`);
    } catch (e) {
      // another build published meanwhile: then the old one is only a leftover
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'EEXIST' && code !== 'ENOTEMPTY') {
        retired.shift();
        done.push(`the previous build of ${finalDir} waits in ${restore.path} (build process ${restore.pid} stopped while publishing), and it could not be put back (${code ?? (e as Error).message}): rename it to ${finalDir}`);
      }
    }
  }
  for (const leftover of [...retired, ...leftovers.filter(l => !l.retired)]) {
    try {
      await fs.rm(leftover.path, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
      done.push(`removed ${path.basename(leftover.path)}, left by build process ${leftover.pid} that no longer runs`);
    } catch (e) {
      done.push(`could not remove ${leftover.path}, left by build process ${leftover.pid} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); remove it by hand`);
    }
  }
  return done;
}
