import execa from 'execa';
import { cpus, tmpdir } from 'os';
import * as path from 'path';
import { EdgespecError, errnoProblem } from '../errors';
import { findOnPath } from '../tools/locate';
import { stopOnInterrupt } from '../interrupt';
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

/** The arguments that show whether a C compiler works at all: compile an empty file to nowhere. */
export const COMPILER_PROBE = ['-x', 'c', '-c', '/dev/null', '-o', '/dev/null'];
const VERSION_PROBE = ['--version'];

/** Messages of the system in a tool's output (LC_ALL=C) that mean the disk, not the tool, failed. */
const SYSTEM_FAILURES: [RegExp, string][] = [
  [/No space left on device/, 'ENOSPC'],
  [/Disk quota exceeded/, 'EDQUOT'],
  [/Read-only file system/, 'EROFS'],
  [/File too large/, 'EFBIG']
];

async function execTool(file: string, args: string[], cwd: string): Promise<execa.ExecaReturnValue> {
  // Its own process group, so that an interrupt stops it and everything it started (cc1, as,
  // ld) and waits for them before their directory is removed.
  const child = execa(file, args, { cwd, reject: false, all: true, env: { LC_ALL: 'C', SOURCE_DATE_EPOCH: '0' }, extendEnv: true, detached: true, stdin: 'ignore' });
  stopOnInterrupt(child);
  return child;
}

/** Why `file` itself does not work (it fails on `probe`), or undefined when it does. */
async function brokenTool(file: string, probe: string[]): Promise<string | undefined> {
  const result = await execTool(file, probe, tmpdir());
  if (!result.failed) return undefined;
  const code = (result as { code?: string }).code;
  const how = result.exitCode !== undefined ? `exit ${result.exitCode}` : result.signal ? `killed by ${result.signal}` : code ?? 'failed';
  const said = (result.all ?? '').trim().split('\n').slice(-5).join('\n');
  return `even \`${path.basename(file)} ${probe.join(' ')}\` fails (${how})${said ? `:\n${said}` : ' and prints nothing'}`;
}

/**
 * Runs a tool in the build directory; a failure becomes an EdgespecError carrying its output.
 * The error says whose problem it is: a tool that cannot start or does not work at all (it
 * fails on `probe`), a full or read-only disk, or else edgespec's (the sources it generated
 * or its kernels).
 */
export async function runTool(file: string, args: string[], cwd: string, log: BuildLog, what: string, probe: string[] = VERSION_PROBE): Promise<string> {
  const result = await execTool(file, args, cwd);
  const output = result.all ?? '';
  log.command('build directory', file, args, output);
  if (!result.failed) return output;
  const code = (result as { code?: string }).code;
  if (code === 'ENOENT') {
    throw new EdgespecError('missing-tool', `${file} is not installed (needed to ${what})`, 'run edgespec doctor to see what is missing and how to install it');
  }
  if (code === 'EACCES' || code === 'ENOEXEC' || code === 'EISDIR') {
    throw new EdgespecError('tool-not-executable', `cannot run ${file} (needed to ${what}): ${errnoProblem(code) ?? code}; it is not an executable program`, `make it executable (chmod +x), or put a working ${path.basename(file)} first on PATH; edgespec doctor shows which one is used`, { tool: file, errno: code });
  }
  if (code) {
    throw new EdgespecError('tool-failed-to-start', `cannot run ${file} (needed to ${what}): ${errnoProblem(code) ?? code}`, 'run edgespec doctor to check the toolchain, and run the command again', { tool: file, errno: code });
  }
  const tail = output.split('\n').slice(-25).join('\n');
  const system = SYSTEM_FAILURES.find(([pattern]) => pattern.test(output));
  if (system) {
    const where = path.dirname(cwd);
    const problem = errnoProblem(system[1]) ?? system[1];
    throw new EdgespecError('build-disk-failed', `${what} failed: ${problem} on the file system that holds ${where}:\n${tail}`, `free space on that file system (df -h ${where}), or build elsewhere with --out DIR`, { errno: system[1], path: where });
  }
  const broken = await brokenTool(file, probe);
  if (broken) {
    const where = path.isAbsolute(file) ? file : findOnPath(file) ?? file;
    throw new EdgespecError('tool-broken', `${what} failed because ${where} does not work: ${broken}`, `reinstall it or put a working ${path.basename(file)} first on PATH (edgespec doctor shows which one is used), then build again`, { tool: file });
  }
  throw new EdgespecError('compile-failed', `${what} failed (exit ${result.exitCode}):\n${tail}`, 'this is a bug in edgespec or its kernels; the full command lines and output are in build.log of the failed build', { command: [file, ...args].join(' ') });
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
    await runTool(cc, [...unitFlags, '-c', unit.source, '-o', unit.object], cwd, unitLog, `compiling ${unit.source}`, COMPILER_PROBE);
    if (cache && key) await cache.put(key, path.join(cwd, unit.object));
  };
  // After a failure no new unit starts, and the ones running are waited for: the caller
  // removes the directory they write into.
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (next < units.length && !failure) {
      const i = next++;
      try {
        await compileOne(units[i], logs[i]);
      } catch (e) {
        failure ??= { error: e };
        return;
      }
      onDone(++done, units.length, units[i]);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, Math.min(cpus().length, units.length)) }, worker));
    if (failure) throw failure.error;
  } finally {
    for (const l of logs) log.append(l);
  }
}
