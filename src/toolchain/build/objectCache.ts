import { createHash } from 'crypto';
import execa from 'execa';
import { promises as fs } from 'fs';
import { homedir } from 'os';
import * as path from 'path';
import { repoFiles } from '../paths';

/**
 * Compiled kernel and platform objects, shared between builds: they depend only on the
 * compiler, the flags and the sources (and every header under kernels/), never on the model,
 * so most of a build's compiling is done once. Keys hash all of those; a hit is the same
 * bytes the compiler would write, so builds stay byte-identical.
 */
export class ObjectCache {
  private constructor(private readonly dir: string, private readonly context: string) {}

  /** EDGESPEC_CACHE_DIR, else ~/.cache/edgespec/objects; undefined when caching is off (EDGESPEC_CACHE_DIR=off). */
  static defaultDir(): string | undefined {
    const chosen = process.env.EDGESPEC_CACHE_DIR;
    if (chosen === 'off') return undefined;
    return chosen || path.join(process.env.XDG_CACHE_HOME || path.join(homedir(), '.cache'), 'edgespec', 'objects');
  }

  /** A cache for one compiler, or undefined when the directory cannot be used. */
  static async open(dir: string | undefined, cc: string): Promise<ObjectCache | undefined> {
    if (!dir) return undefined;
    try {
      await fs.mkdir(dir, { recursive: true });
      const version = await execa(cc, ['--version'], { reject: false });
      return new ObjectCache(dir, `${cc}\n${version.stdout}\n${await headersDigest()}`);
    } catch {
      return undefined;
    }
  }

  /** The key of one compile: flags with the build directory factored out, and the source's bytes. */
  async key(flags: string[], source: string, buildDir: string): Promise<string> {
    const content = await fs.readFile(source);
    return createHash('sha256')
      .update(this.context)
      .update('\0')
      .update(JSON.stringify(flags.map(f => f.split(buildDir).join('${BUILD}'))))
      .update('\0')
      .update(source)
      .update('\0')
      .update(content)
      .digest('hex');
  }

  async get(key: string, to: string): Promise<boolean> {
    try {
      await fs.copyFile(path.join(this.dir, `${key}.o`), to);
      return true;
    } catch {
      return false;
    }
  }

  async put(key: string, from: string): Promise<void> {
    const final = path.join(this.dir, `${key}.o`);
    const tmp = `${final}.${process.pid}.${Math.random().toString(36).slice(2)}`;
    try {
      await fs.copyFile(from, tmp);
      await fs.rename(tmp, final);
    } catch {
      await fs.rm(tmp, { force: true });
    }
  }
}

/** One hash over every header under kernels/ (paths and contents, sorted). */
async function headersDigest(): Promise<string> {
  const hash = createHash('sha256');
  const walk = async (dir: string): Promise<string[]> => {
    const entries = await fs.readdir(dir, { withFileTypes: true });
    const found: string[] = [];
    for (const e of entries) {
      const full = path.join(dir, e.name);
      if (e.isDirectory()) found.push(...(await walk(full)));
      else if (/\.(h|inc|ld)$/.test(e.name)) found.push(full);
    }
    return found;
  };
  for (const file of (await walk(repoFiles.kernelsDir)).sort()) {
    hash.update(path.relative(repoFiles.kernelsDir, file)).update('\0').update(await fs.readFile(file)).update('\0');
  }
  return hash.digest('hex');
}
