/**
 * The targets, the image arithmetics and where a build goes: one set of facts for the CLI,
 * the lab and the bench, read from targets.json, which the Jupyter server reads too
 * (kernel-bridge/edgespec/contracts.py). Browser- and node-safe.
 */
import facts from './targets.json';

export type TargetName = 'qemu-virt' | 'host' | 'linux' | 'rpi3' | 'efi' | 'linux-vm';
export type Dtype = 'float32' | 'int8';

export const TARGETS = facts.targets as readonly TargetName[];
export const DEFAULT_TARGET = facts.default_target as TargetName;
export const DTYPES = facts.dtypes as readonly Dtype[];
export const DEFAULT_DTYPE = facts.default_dtype as Dtype;
/** The directory of a bundle that holds its builds. */
export const BUILDS_DIR = facts.builds_dir;

/** `<target>` for float32, `<target>-int8` for int8: the build directory's name inside BUNDLE/build/. */
export function buildDirName(target: string, dtype: Dtype): string {
  return facts.build_dir_name[dtype].replace('{target}', target);
}

/** The debug build (edgespec build --debug-tensors) of a build directory: a sibling, named with a suffix. */
export function debugBuildDir(buildDir: string): string {
  return `${buildDir.replace(/\/+$/, '')}${facts.debug_build_suffix}`;
}

/** BUNDLE/build/<target>[-int8][-debug], '/'-separated: the default output of a build. */
export function defaultBuildDir(bundle: string, target: string, dtype: Dtype, options: { debug?: boolean } = {}): string {
  const dir = `${bundle.replace(/\/+$/, '')}/${BUILDS_DIR}/${buildDirName(target, dtype)}`;
  return options.debug ? debugBuildDir(dir) : dir;
}
