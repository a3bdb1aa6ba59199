import { Dirent, promises as fs } from 'fs';
import * as path from 'path';

/**
 * What a directory that edgespec made holds: the files `edgespec build` writes, what
 * `edgespec run` adds (run.json, run-outputs/) and the archive the JupyterLab server writes
 * beside them (<model>-<target>[-int8].zip), with the temporary names each of them uses while
 * writing. A directory holding anything else is not replaced by a build: it would be lost.
 */
const BUILD_FILES = new Set([
  'build.json', 'build.log', 'footprint.json', 'image.elf', 'image.linked.elf', 'image.map',
  'model.c', 'weights.S', 'weights.bin', 'symbols.c',
  // edgespec run (src/toolchain/run/runBuild.ts)
  'run.json'
]);

const OBJECT_FILE = /^[\w.+-]+\.o$/;
/** edgespec run's saved outputs (written under a temporary name, then renamed). */
const OUTPUT_FILE = /^[\w.+-]+\.npy(\.tmp-\d+-\d+)?$/;
/** Files written by a rename from a temporary name (run.json.tmp-PID-TIME, .archive-XXXX.zip.tmp). */
const TRANSIENT_FILES = [/^run\.json\.tmp-\d+-\d+$/, /^\.archive-[^/]*$/];
/** edgespec run's staging of run-outputs/. */
const RUN_OUTPUTS_STAGING = /^\.run-outputs\.tmp-\d+$/;

/** The server's download of the build (kernel-bridge/edgespec/server/archive.py). */
function isArchive(name: string, target: string | undefined): boolean {
  if (!name.endsWith('.zip') || !target) return false;
  const stem = name.slice(0, -'.zip'.length);
  return stem.endsWith(`-${target}`) || stem.endsWith(`-${target}-int8`);
}

/** The names a directory of a build may hold, or undefined for a directory no build makes. */
function subdirRule(name: string): RegExp | undefined {
  if (name === 'obj') return OBJECT_FILE;
  if (name === 'run-outputs' || RUN_OUTPUTS_STAGING.test(name)) return OUTPUT_FILE;
  return undefined;
}

async function foreignInSubdir(dir: string, name: string, rule: RegExp): Promise<string[]> {
  const entries = await fs.readdir(path.join(dir, name), { withFileTypes: true });
  return entries.filter(e => !e.isFile() || !rule.test(e.name)).map(e => `${name}/${e.name}${e.isDirectory() ? '/' : ''}`);
}

async function foreignEntry(dir: string, entry: Dirent, target: string | undefined): Promise<string[]> {
  if (entry.isFile()) {
    if (BUILD_FILES.has(entry.name) || TRANSIENT_FILES.some(p => p.test(entry.name)) || isArchive(entry.name, target)) return [];
    return [entry.name];
  }
  if (entry.isDirectory()) {
    const rule = subdirRule(entry.name);
    return rule ? foreignInSubdir(dir, entry.name, rule) : [`${entry.name}/`];
  }
  // a symbolic link, a FIFO, a socket, a device: never something edgespec writes
  return [entry.name];
}

/**
 * The entries of `dir` that edgespec would not have written there (relative paths, a
 * directory with a trailing /), given the target its build.json names.
 */
export async function foreignEntries(dir: string, target: string | undefined): Promise<string[]> {
  const entries = await fs.readdir(dir, { withFileTypes: true });
  const foreign: string[] = [];
  for (const entry of entries) foreign.push(...(await foreignEntry(dir, entry, target)));
  return foreign.sort();
}
