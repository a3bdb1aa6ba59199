/**
 * What a build directory may hold (build-dir.json, read by the toolchain's build and by
 * the Python capture): fixed names, name patterns, and directories with their own rule.
 */
import entries from './build-dir.json';

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function compiled(pattern: string, target: string | undefined): RegExp | undefined {
  if (pattern.includes('{target}') && target === undefined) return undefined;
  return new RegExp(pattern.replace(/\{target\}/g, escapeRegExp(target ?? '')));
}

export interface BuildDirRules {
  /** True for a file name a build, a run or an archive writes at the top of the directory. */
  isBuildFile(name: string): boolean;
  /** The rule for the entries of a directory the build makes, or undefined for any other directory. */
  subdirRule(name: string): RegExp | undefined;
}

/** The rules for a build of `target` (undefined when its build.json does not say: no archive is recognized). */
export function buildDirRules(target: string | undefined): BuildDirRules {
  const files = new Set(entries.files);
  const patterns = entries.file_patterns.map(p => compiled(p, target)).filter((p): p is RegExp => p !== undefined);
  const dirs = entries.directories.map(d => ({ name: new RegExp(d.name), entries: new RegExp(d.entries) }));
  return {
    isBuildFile: name => files.has(name) || patterns.some(p => p.test(name)),
    subdirRule: name => dirs.find(d => d.name.test(name))?.entries
  };
}
