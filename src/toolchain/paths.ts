import * as path from 'path';

/**
 * The repository root: two levels above this file's directory, which holds both when
 * jest runs the sources (src/toolchain) and when node runs the compiled CLI (lib/toolchain).
 */
export const repoRoot = path.resolve(__dirname, '..', '..');

export function repoPath(...segments: string[]): string {
  return path.join(repoRoot, ...segments);
}

export const repoFiles = {
  graphSchema: repoPath('src', 'common', 'schema', 'graph.schema.json'),
  opsVocabulary: repoPath('src', 'common', 'ops.json'),
  opsDoc: repoPath('docs', 'ops.md'),
  kernelsDir: repoPath('kernels'),
  kernelBridgeDir: repoPath('kernel-bridge'),
  venvPython: repoPath('.venv', 'bin', 'python')
};
