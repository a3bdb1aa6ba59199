/**
 * The inputs of a streamed run (`edgespec run BUILD --inputs DIR_OR_NPY`), and the expected
 * outputs to compare with (`--expected DIR_OR_NPY`), one entry per step:
 *   - one .npy whose first axis is the step: [N, ...the tensor's shape] (one-tensor models);
 *   - a directory of files, one per step in name order, each as `--input` takes it: .npy
 *     (one-tensor models), .safetensors (a tensor per input name) or raw .bin.
 */
import { promises as fs } from 'fs';
import * as path from 'path';
import { formatShape } from '../bundle/safetensors';
import { EdgespecError } from '../errors';
import { readRegularFile } from '../readRegularFile';
import { byteSize } from '../bundle/dtype';
import { dtypeFix, InputSpec, INPUT_HEADER_ALLOWANCE, readInputFile } from './inputFile';
import { NpyFormatError, parseNpy } from './npy';

export interface StreamStep {
  /** The file (and index along its first axis) the step comes from. */
  label: string;
  /** The raw bytes of each tensor, in the model's order. */
  tensors: Buffer[];
}

const STEP_FILES = new Set(['.npy', '.safetensors', '.bin']);
/** A stacked .npy holds at most this many bytes (the steps are held in memory). */
const MAX_STACK_BYTES = 4 * 1024 * 1024 * 1024 - 1;

function streamError(message: string, hint: string): EdgespecError {
  return new EdgespecError('inputs-invalid', message, hint);
}

export async function readStreamSteps(source: string, specs: InputSpec[], what: 'inputs' | 'expected outputs'): Promise<StreamStep[]> {
  const flag = what === 'inputs' ? '--inputs' : '--expected';
  const hint = `give ${flag} a .npy whose first axis is the step, or a directory of one .npy/.safetensors/.bin file per step`;
  const stat = await fs.stat(source).catch(() => undefined);
  if (!stat) throw streamError(`${flag} ${source} does not exist`, hint);
  if (stat.isDirectory()) {
    const files = (await fs.readdir(source)).filter(f => STEP_FILES.has(path.extname(f).toLowerCase())).sort();
    if (!files.length) throw streamError(`${flag} ${source} holds no .npy, .safetensors or .bin files`, hint);
    const steps: StreamStep[] = [];
    for (const file of files) {
      const full = path.join(source, file);
      steps.push({ label: file, tensors: await readInputFile(full, specs) });
    }
    return steps;
  }
  if (path.extname(source).toLowerCase() !== '.npy') throw streamError(`${flag} ${source} is neither a directory nor a .npy file`, hint);
  return readStackedNpy(source, specs, flag);
}

async function readStackedNpy(file: string, specs: InputSpec[], flag: string): Promise<StreamStep[]> {
  if (specs.length !== 1) {
    throw streamError(`${flag} ${file}: one .npy holds one array, the model has ${specs.length} tensors (${specs.map(s => s.name).join(', ')})`, `give ${flag} a directory with one .safetensors file per step, a tensor per name`);
  }
  const spec = specs[0];
  const content = await readRegularFile(file, { what: `${flag} file`, maxBytes: MAX_STACK_BYTES + INPUT_HEADER_ALLOWANCE, hint: 'split the steps into a directory of files' });
  let array;
  try {
    array = parseNpy(content);
  } catch (e) {
    if (e instanceof NpyFormatError) throw streamError(`${file}: ${e.message}`, 'save it with numpy.save(path, x) as a little-endian C-ordered array');
    throw e;
  }
  if (array.dtype !== spec.dtype) {
    throw streamError(`${file} is ${array.dtype}, the model's '${spec.name}' is ${spec.dtype}`, dtypeFix(array.dtype, spec));
  }
  const stepBytes = byteSize(spec.shape, spec.dtype);
  const count = array.shape[0];
  const rest = array.shape.slice(1);
  if (array.shape.length < 1 || !count || !sameShape(rest, spec.shape)) {
    throw streamError(
      `${file} has shape ${formatShape(array.shape)}; steps of '${spec.name}' ${formatShape(spec.shape)} stack as [N, ${spec.shape.join(', ')}]`,
      `stack the steps along a new first axis, e.g. np.stack(steps) or x.reshape(-1, ${spec.shape.join(', ')})`
    );
  }
  return Array.from({ length: count }, (_, i) => ({ label: `${path.basename(file)}[${i}]`, tensors: [array.data.subarray(i * stepBytes, (i + 1) * stepBytes)] }));
}

/** Equal after dropping leading 1s: [3, 8, 8] steps stack for a [1, 3, 8, 8] input. */
function sameShape(a: readonly number[], b: readonly number[]): boolean {
  const strip = (s: readonly number[]) => {
    const first = s.findIndex(d => d !== 1);
    return first === -1 ? [] : s.slice(first);
  };
  const x = strip(a);
  const y = strip(b);
  return x.length === y.length && x.every((d, i) => d === y[i]);
}
