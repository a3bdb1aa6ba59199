// kernels/kernels.json: every C kernel model.c may call (function → source, calls, dtype),
// one table for every target.

import { readFileSync } from 'fs';
import * as path from 'path';
import { EdgespecError } from '../errors';
import { repoFiles } from '../paths';

/** int32 / int64: the integer kernels (kernels/integer/) of index tensors. */
export type KernelDtype = 'float32' | 'int8' | 'int32' | 'int64';
const KERNEL_DTYPES: readonly unknown[] = ['float32', 'int8', 'int32', 'int64'];

export interface KernelEntry {
  /** Absolute path of the kernel's C source. */
  source: string;
  /** Kernel functions it calls (their files are linked too). */
  calls: string[];
  dtype: KernelDtype;
}

interface KernelsFile {
  format: string;
  kernels: Record<string, { source?: unknown; calls?: unknown; dtype?: unknown }>;
}

export function kernelRegistryFile(): string {
  return path.join(repoFiles.kernelsDir, 'kernels.json');
}

function invalid(file: string, problem: string): EdgespecError {
  return new EdgespecError('platform-invalid', `${file}: ${problem}`, 'the edgespec installation is damaged; reinstall it');
}

let cached: Map<string, KernelEntry> | undefined;

/** The kernel registry, by C function name. */
export function loadKernelRegistry(): Map<string, KernelEntry> {
  if (cached) return cached;
  const file = kernelRegistryFile();
  let spec: KernelsFile;
  try {
    spec = JSON.parse(readFileSync(file, 'utf8')) as KernelsFile;
  } catch (e) {
    throw invalid(file, `cannot be read as JSON: ${(e as Error).message}`);
  }
  if (spec?.format !== 'edgespec.kernels' || typeof spec.kernels !== 'object' || spec.kernels === null) {
    throw invalid(file, 'is not a kernel registry (format edgespec.kernels)');
  }
  const kernels = new Map<string, KernelEntry>();
  for (const [fn, k] of Object.entries(spec.kernels)) {
    const calls = k.calls ?? [];
    if (typeof k.source !== 'string' || !Array.isArray(calls) || !calls.every(c => typeof c === 'string') || !KERNEL_DTYPES.includes(k.dtype)) {
      throw invalid(file, `kernel ${fn} needs a source (string), calls (a list of kernel functions) and a dtype (float32, int8, int32 or int64)`);
    }
    kernels.set(fn, { source: path.resolve(repoFiles.kernelsDir, k.source), calls: calls as string[], dtype: k.dtype as KernelDtype });
  }
  cached = kernels;
  return kernels;
}
