import { Dirent, promises as fs } from 'fs';
import * as path from 'path';
import { buildDirRules, BuildDirRules } from '../../common/buildDirEntries';

/**
 * What a directory that edgespec made holds: the files `edgespec build` writes, what
 * `edgespec run` adds (run.json, run-outputs/) and the archive the JupyterLab server writes
 * beside them (<model>-<target>[-int8].zip), with the temporary names each of them uses while
 * writing: one list, src/common/build-dir.json, which the Python capture reads too. A
 * directory holding anything else is not replaced by a build: it would be lost.
 */

async function foreignInSubdir(dir: string, name: string, rule: RegExp): Promise<string[]> {
  const entries = await fs.readdir(path.join(dir, name), { withFileTypes: true });
  return entries.filter(e => !e.isFile() || !rule.test(e.name)).map(e => `${name}/${e.name}${e.isDirectory() ? '/' : ''}`);
}

async function foreignEntry(dir: string, entry: Dirent, rules: BuildDirRules): Promise<string[]> {
  if (entry.isFile()) return rules.isBuildFile(entry.name) ? [] : [entry.name];
  if (entry.isDirectory()) {
    const rule = rules.subdirRule(entry.name);
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
  const rules = buildDirRules(target);
  const foreign: string[] = [];
  for (const entry of entries) foreign.push(...(await foreignEntry(dir, entry, rules)));
  return foreign.sort();
}
