import execa from 'execa';
import { cpus } from 'os';
import * as path from 'path';
import { EdgespecError } from '../errors';
import { ObjectCache } from './objectCache';

/** One C or assembly file to compile into an object of the build directory. */
export interface CompileUnit {
  /** Path as given to the compiler (absolute, or relative to the build directory). */
  source: string;
  /** Object path relative to the build directory, e.g. obj/model.o. */
  object: string;
  /** Flags for this unit only (e.g. the platform's -DES_OUTPUT_BYTES). */
  extraFlags?: string[];
}

/** Everything the compiler printed, for build.log. */
export class BuildLog {
  private readonly entries: string[] = [];

  command(cwdNote: string, file: string, args: string[], output: string): void {
    const quoted = [file, ...args].map(a => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
    this.entries.push(`$ ${quoted}${cwdNote ? `   # in ${cwdNote}` : ''}\n${output ? `${output.trimEnd()}\n` : ''}`);
  }

  append(other: BuildLog): void {
    this.entries.push(...other.entries);
  }

  note(text: string): void {
    this.entries.push(`# ${text}\n`);
  }

  text(): string {
    return this.entries.join('\n');
  }
}

/** Runs a tool in the build directory; a failure becomes an EdgespecError carrying its output. */
export async function runTool(file: string, args: string[], cwd: string, log: BuildLog, what: string): Promise<string> {
  const result = await execa(file, args, {
    cwd,
    reject: false,
    all: true,
    env: { LC_ALL: 'C', SOURCE_DATE_EPOCH: '0' },
    extendEnv: true
  });
  const output = result.all ?? '';
  log.command('build directory', file, args, output);
  if (result.failed) {
    if ((result as { code?: string }).code === 'ENOENT') {
      throw new EdgespecError('missing-tool', `${file} is not installed (needed to ${what})`, 'run edgespec doctor to see what is missing and how to install it');
    }
    const tail = output.split('\n').slice(-25).join('\n');
    throw new EdgespecError('compile-failed', `${what} failed (exit ${result.exitCode}):\n${tail}`, 'this is a bug in edgespec or its kernels; the full command lines and output are in build.log of the failed build', { command: [file, ...args].join(' ') });
  }
  return output;
}

/**
 * Compiles every unit, as many at once as there are CPUs. Units with an absolute source
 * (kernels, platform) come from `cache` when it holds them. build.log lists the units in
 * order, whatever order the compilers finished in.
 */
export async function compileAll(
  cc: string,
  flags: string[],
  units: CompileUnit[],
  cwd: string,
  log: BuildLog,
  onDone: (done: number, total: number, unit: CompileUnit) => void,
  cache?: ObjectCache
): Promise<void> {
  const logs = units.map(() => new BuildLog());
  let next = 0;
  let done = 0;
  const compileOne = async (unit: CompileUnit, unitLog: BuildLog) => {
    const unitFlags = [...flags, ...(unit.extraFlags ?? [])];
    const cacheable = cache && path.isAbsolute(unit.source);
    const key = cacheable ? await cache.key(unitFlags, unit.source, cwd) : undefined;
    if (cache && key && (await cache.get(key, path.join(cwd, unit.object)))) {
      unitLog.note(`${unit.object}: from the object cache (${key.slice(0, 16)}), compiled by: ${[cc, ...unitFlags, '-c', unit.source].join(' ')}`);
      return;
    }
    await runTool(cc, [...unitFlags, '-c', unit.source, '-o', unit.object], cwd, unitLog, `compiling ${unit.source}`);
    if (cache && key) await cache.put(key, path.join(cwd, unit.object));
  };
  const worker = async () => {
    while (next < units.length) {
      const i = next++;
      await compileOne(units[i], logs[i]);
      onDone(++done, units.length, units[i]);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, Math.min(cpus().length, units.length)) }, worker));
  } finally {
    for (const l of logs) log.append(l);
  }
}
