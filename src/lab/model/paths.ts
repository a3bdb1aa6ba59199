/**
 * Paths as the server API wants them ('/'-separated, relative to the server root) from
 * paths the kernel printed (relative to the notebook's directory, or absolute). Pure.
 */

/** Collapse "." and ".." segments; ".." above the start is kept so the server can refuse it. */
export function normalisePath(path: string): string {
  const absolute = path.startsWith('/');
  const parts: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') {
      continue;
    }
    if (part === '..' && parts.length > 0 && parts[parts.length - 1] !== '..') {
      parts.pop();
    } else if (!(part === '..' && absolute)) {
      parts.push(part);
    }
  }
  return (absolute ? '/' : '') + parts.join('/');
}

export function dirname(path: string): string {
  const index = path.lastIndexOf('/');
  return index < 0 ? '' : path.slice(0, index);
}

export function basename(path: string): string {
  const trimmed = path.replace(/\/+$/, '');
  return trimmed.slice(trimmed.lastIndexOf('/') + 1);
}

/**
 * A bundle or build path from a cell output, resolved for the API: an absolute path is
 * passed on (the server accepts it when inside its root); a relative one is taken relative
 * to the notebook's directory (the kernel's working directory by default).
 */
export function resolveOutputPath(path: string, notebookPath: string | null): string {
  if (path.startsWith('/')) {
    return normalisePath(path);
  }
  const base = notebookPath ? dirname(notebookPath) : '';
  return normalisePath(base ? `${base}/${path}` : path);
}

/** The default build directory of a bundle for a target (the build command's default). */
export function defaultBuildDir(bundle: string, target: string): string {
  return normalisePath(`${bundle}/build/${target}`);
}

/**
 * Whether two paths name the same place when one may be absolute (as the kernel printed it)
 * and the other root-relative (as the server answers): the absolute one must end with the
 * relative one.
 */
export function samePlace(a: string, b: string): boolean {
  const left = normalisePath(a);
  const right = normalisePath(b);
  if (left === right) {
    return true;
  }
  if (left.startsWith('/') === right.startsWith('/')) {
    return false;
  }
  const [absolute, relative] = left.startsWith('/') ? [left, right] : [right, left];
  return relative !== '' && absolute.endsWith('/' + relative);
}

/** Whether `build` is one of `bundle`'s build directories (`<bundle>/build/<target>`). */
export function isBuildOf(build: string, bundle: string): boolean {
  const match = /^(.*)\/build\/[^/]+$/.exec(normalisePath(build));
  return match !== null && samePlace(match[1], bundle);
}

/** "model · qemu-virt" for `…/edgespec-bundles/model/build/qemu-virt`; the basename otherwise. */
export function describeBuild(build: string): string {
  const match = /([^/]+)\/build\/([^/]+)\/?$/.exec(normalisePath(build));
  return match ? `${match[1]} · ${match[2]}` : basename(build);
}
