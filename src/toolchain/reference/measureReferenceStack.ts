import { createHash } from 'crypto';
import { promises as fs } from 'fs';
import * as os from 'os';
import * as path from 'path';
import execa from 'execa';
import { locatePython } from '../tools/locate';

/** One layer of the generic stack an image replaces, measured on this machine. */
export interface StackLayer {
  name: string;
  bytes: number;
  how: string;
}

// Asks the Python that captures models where the layers of a framework deployment live.
// Importing torch costs ~1 s; the answer is cached per interpreter and torch version.
const LOCATE_LAYERS = `
import json, os, sys, sysconfig, importlib.util
def pkg(name):
    spec = importlib.util.find_spec(name)
    return os.path.dirname(spec.origin) if spec and spec.origin else None
lib = sysconfig.get_config_var("LIBDIR") or ""
ldlib = sysconfig.get_config_var("LDLIBRARY") or ""
libpython = os.path.join(lib, ldlib) if ldlib else ""
print(json.dumps({
  "python": sys.version.split()[0],
  "stdlib": sysconfig.get_paths()["stdlib"],
  "executable": os.path.realpath(sys.executable),
  "libpython": libpython if os.path.isfile(libpython) else None,
  "torch": pkg("torch"), "torchvision": pkg("torchvision"), "numpy": pkg("numpy"),
}))
`;

interface LayerPaths {
  python: string;
  stdlib: string;
  executable: string;
  libpython: string | null;
  torch: string | null;
  torchvision: string | null;
  numpy: string | null;
}

/** Sum of st_size of every regular file under `target`, symlinks not followed. */
export async function treeBytes(target: string, skip: (name: string) => boolean = () => false): Promise<{ bytes: number; files: number }> {
  const stat = await fs.lstat(target);
  if (stat.isFile()) return { bytes: stat.size, files: 1 };
  if (!stat.isDirectory()) return { bytes: 0, files: 0 };
  let bytes = 0;
  let files = 0;
  for (const entry of await fs.readdir(target)) {
    if (skip(entry)) continue;
    const sub = await treeBytes(path.join(target, entry), skip);
    bytes += sub.bytes;
    files += sub.files;
  }
  return { bytes, files };
}

async function measure(label: string, paths: string[], what: string, skip?: (name: string) => boolean): Promise<StackLayer> {
  let bytes = 0;
  let files = 0;
  for (const p of paths) {
    const t = await treeBytes(p, skip);
    bytes += t.bytes;
    files += t.files;
  }
  return { name: label, bytes, how: `sum of st_size of the ${files} files of ${what} on this machine (${paths.join(', ')})` };
}

/** The Linux kernel image this machine boots, when /boot has one. */
async function measureKernel(): Promise<StackLayer | undefined> {
  const release = os.release();
  for (const candidate of [`/boot/vmlinuz-${release}`, `/boot/Image-${release}`]) {
    try {
      const stat = await fs.stat(candidate);
      return { name: 'Linux kernel', bytes: stat.size, how: `st_size of ${candidate} (compressed kernel image this machine boots; modules not counted)` };
    } catch {
      // not there
    }
  }
  return undefined;
}

/**
 * What running the same model takes with the framework: the PyTorch and NumPy packages,
 * the Python runtime and, where /boot has it, the Linux kernel. Returns [] when no Python
 * with torch is found (the footprint then says nothing about the reference).
 */
export async function measureReferenceStack(cacheDir = path.join(os.homedir(), '.cache', 'edgespec')): Promise<StackLayer[]> {
  const python = locatePython().path;
  if (!python) return [];
  let located: LayerPaths;
  try {
    const { stdout } = await execa(python, ['-c', LOCATE_LAYERS], { timeout: 60_000 });
    located = JSON.parse(stdout.trim().split('\n').pop() as string);
  } catch {
    return [];
  }
  if (!located.torch) return [];
  const torchVersion = await fs.readFile(path.join(located.torch, 'version.py'), 'utf8').then(t => /__version__\s*=\s*'([^']+)'/.exec(t)?.[1] ?? 'unknown').catch(() => 'unknown');
  const key = createHash('sha256').update(`${located.executable}|${located.torch}|${torchVersion}`).digest('hex').slice(0, 16);
  const cacheFile = path.join(cacheDir, `reference-stack-${key}.json`);
  try {
    return JSON.parse(await fs.readFile(cacheFile, 'utf8')) as StackLayer[];
  } catch {
    // measure below
  }
  const layers: StackLayer[] = [];
  layers.push(await measure(`PyTorch ${torchVersion}`, [located.torch], 'the installed torch package (CPU and any bundled GPU libraries it ships)'));
  if (located.torchvision) layers.push(await measure('torchvision', [located.torchvision], 'the installed torchvision package'));
  if (located.numpy) layers.push(await measure('NumPy', [located.numpy], 'the installed numpy package'));
  const runtime = [located.executable, located.stdlib, ...(located.libpython ? [located.libpython] : [])];
  // site-packages is skipped: third-party packages are not the runtime (torch and numpy are counted above).
  layers.push(await measure(`Python ${located.python}`, runtime, 'the interpreter, its shared library and its standard library without site-packages', name => name === 'site-packages'));
  const kernel = await measureKernel();
  if (kernel) layers.push(kernel);
  await fs.mkdir(cacheDir, { recursive: true });
  const partial = `${cacheFile}.${process.pid}.partial`;
  await fs.writeFile(partial, JSON.stringify(layers, null, 1));
  await fs.rename(partial, cacheFile);
  return layers;
}
