import { accessSync, constants, existsSync, statSync } from 'fs';
import * as path from 'path';
import { repoFiles } from '../paths';

/** The first executable called `name` on PATH, like `command -v`. */
export function findOnPath(name: string, searchPath = process.env.PATH ?? ''): string | undefined {
  for (const dir of searchPath.split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    if (isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}

export function isExecutableFile(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

export interface PythonLocation {
  /** Absolute path, or undefined when no candidate exists. */
  path?: string;
  /** Which rule chose it, for messages. */
  how: string;
}

/** Python is EDGESPEC_PYTHON if set, else the repository's .venv, else python3 on PATH. */
export function locatePython(env: NodeJS.ProcessEnv = process.env): PythonLocation {
  const chosen = env.EDGESPEC_PYTHON;
  if (chosen) {
    const resolved = chosen.includes(path.sep) ? path.resolve(chosen) : findOnPath(chosen, env.PATH);
    return { path: resolved && isExecutableFile(resolved) ? resolved : undefined, how: `EDGESPEC_PYTHON=${chosen}` };
  }
  if (isExecutableFile(repoFiles.venvPython)) return { path: repoFiles.venvPython, how: 'the repository venv' };
  return { path: findOnPath('python3', env.PATH), how: 'python3 on PATH' };
}

/**
 * The environment Python runs in: the repository's kernel-bridge/ comes first on
 * PYTHONPATH, so `python -m edgespec` finds the package that belongs with this CLI
 * even when it was not pip-installed.
 */
export function pythonEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const bridge = repoFiles.kernelBridgeDir;
  if (!existsSync(path.join(bridge, 'edgespec', '__init__.py'))) return env;
  const existing = env.PYTHONPATH ? env.PYTHONPATH.split(path.delimiter) : [];
  return { ...env, PYTHONPATH: [bridge, ...existing.filter(p => p !== bridge)].join(path.delimiter) };
}
