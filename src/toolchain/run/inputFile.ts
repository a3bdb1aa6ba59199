import * as path from 'path';
import { DType } from '../../common/types';
import { EdgespecError } from '../errors';
import { formatShape, parseSafetensors, SafetensorsError } from '../bundle/safetensors';
import { byteSize } from '../bundle/dtype';
import { decodeIoFile, IO_KIND_INPUTS } from '../guest/ioFile';
import { NpyFormatError, parseNpy } from './npy';
import { readRegularFile } from '../readRegularFile';

/** Room for the header of a .npy, .safetensors or I/O file beyond the tensor bytes themselves. */
export const INPUT_HEADER_ALLOWANCE = 1024 * 1024;
const INPUT_HINT = 'pass an existing .npy, .safetensors or raw .bin file with --input';

/** What the image reads for one model input. */
export interface InputSpec {
  name: string;
  shape: number[];
  dtype: DType;
}

function describe(spec: InputSpec): string {
  return `'${spec.name}' (${spec.dtype} ${formatShape(spec.shape)}, ${byteSize(spec.shape, spec.dtype)} bytes)`;
}

function describeAll(specs: InputSpec[]): string {
  return specs.map(describe).join(', ');
}

function inputError(message: string, hint: string): EdgespecError {
  return new EdgespecError('input-invalid', message, hint);
}

/** Shapes match when equal after dropping leading 1s: [3, 224, 224] is accepted for [1, 3, 224, 224]. */
function sameShape(a: readonly number[], b: readonly number[]): boolean {
  const strip = (s: readonly number[]) => s.slice(s.findIndex(d => d !== 1) === -1 ? s.length : s.findIndex(d => d !== 1));
  const x = strip(a);
  const y = strip(b);
  return x.length === y.length && x.every((d, i) => d === y[i]);
}

/**
 * The fix for an input of the wrong dtype. int8 / uint8 codes for a float32 input are most likely
 * a quantized model's own input: the image takes real values, so a plain cast would be wrong.
 */
export function dtypeFix(got: DType, spec: InputSpec): string {
  const cast = `convert it, e.g. x.astype(np.${spec.dtype}) in NumPy or x.to(torch.${spec.dtype}) in PyTorch`;
  if (spec.dtype === 'float32' && (got === 'int8' || got === 'uint8')) {
    return `${cast}; for the codes q of a quantized model's input, feed the real values scale * (q - zero_point) (the input's quantization in the .tflite / .onnx, or in graph.json beside its quantize node)`;
  }
  return cast;
}

function checkTensor(file: string, spec: InputSpec, got: { dtype: DType; shape: number[] }, what: string): void {
  if (got.dtype !== spec.dtype) {
    throw inputError(`${file}: ${what} is ${got.dtype} but the model's input ${describe(spec)} is ${spec.dtype}`, dtypeFix(got.dtype, spec));
  }
  if (!sameShape(got.shape, spec.shape)) {
    throw inputError(
      `${file}: ${what} has shape ${formatShape(got.shape)} but the model's input ${describe(spec)} needs ${formatShape(spec.shape)}`,
      `give an array of shape ${formatShape(spec.shape)} in the layout the model was captured with`
    );
  }
}

/**
 * Reads a user's input file and returns the raw bytes of each model input, in input order.
 * `.npy` and `.safetensors` carry dtype and shape, which must match; a file in the
 * platforms' I/O format (magic EDGESPEC) is taken apart by its header; anything else is
 * the raw little-endian bytes of all inputs one after another, and its size must match.
 */
export async function readInputFile(file: string, specs: InputSpec[]): Promise<Buffer[]> {
  const tensorBytes = specs.reduce((sum, s) => sum + byteSize(s.shape, s.dtype), 0);
  let content: Buffer;
  try {
    content = await readRegularFile(file, {
      what: 'input file',
      maxBytes: tensorBytes + INPUT_HEADER_ALLOWANCE,
      why: `the model's input${specs.length === 1 ? '' : 's'} ${describeAll(specs)} and a header of at most ${INPUT_HEADER_ALLOWANCE} bytes`,
      hint: INPUT_HINT
    });
  } catch (e) {
    if (e instanceof EdgespecError) throw inputError(e.message, INPUT_HINT);
    const code = (e as NodeJS.ErrnoException).code;
    throw inputError(`cannot read input file ${file}: ${code === 'ENOENT' ? 'it does not exist' : code ?? (e as Error).message}`, INPUT_HINT);
  }
  const ext = path.extname(file).toLowerCase();
  if (ext === '.npy') return [readNpyInput(file, content, specs)];
  if (ext === '.safetensors') return readSafetensorsInput(file, content, specs);
  return splitRawInput(file, content, specs);
}

function readNpyInput(file: string, content: Buffer, specs: InputSpec[]): Buffer {
  if (specs.length !== 1) {
    throw inputError(`${file}: a .npy file holds one array but the model has ${specs.length} inputs: ${describeAll(specs)}`, 'put all inputs into one .safetensors file, one tensor per input name');
  }
  let array;
  try {
    array = parseNpy(content);
  } catch (e) {
    if (e instanceof NpyFormatError) throw inputError(`${file}: ${e.message}`, 'save the input with numpy.save(path, x) as a little-endian C-ordered array');
    throw e;
  }
  checkTensor(file, specs[0], array, 'the array');
  return array.data;
}

function readSafetensorsInput(file: string, content: Buffer, specs: InputSpec[]): Buffer[] {
  let parsed;
  try {
    parsed = parseSafetensors(content, file);
  } catch (e) {
    if (e instanceof SafetensorsError) throw inputError(e.message, 'save the input with safetensors (e.g. safetensors.numpy.save_file({name: x}, path))');
    throw e;
  }
  const tensors = [...parsed.tensors.values()];
  return specs.map(spec => {
    let tensor = parsed.tensors.get(spec.name);
    if (!tensor && specs.length === 1 && tensors.length === 1) tensor = tensors[0];
    if (!tensor) {
      throw inputError(
        `${file}: no tensor named '${spec.name}' (the file has ${tensors.map(t => `'${t.name}'`).join(', ') || 'no tensors'})`,
        `name each tensor after the model's input: ${describeAll(specs)}`
      );
    }
    checkTensor(file, spec, tensor, `tensor '${tensor.name}'`);
    return tensor.data;
  });
}

function splitRawInput(file: string, content: Buffer, specs: InputSpec[]): Buffer[] {
  if (content.subarray(0, 8).toString('latin1') === 'EDGESPEC') {
    try {
      return decodeIoFile(content, IO_KIND_INPUTS, specs.map(s => byteSize(s.shape, s.dtype)));
    } catch (e) {
      throw inputError(`${file} is an edgespec input file that does not fit the model: ${(e as Error).message}`, `the model's inputs are ${describeAll(specs)}`);
    }
  }
  const sizes = specs.map(s => byteSize(s.shape, s.dtype));
  const total = sizes.reduce((a, b) => a + b, 0);
  if (content.length !== total) {
    const what = specs.length === 1 ? `the model's input ${describe(specs[0])}` : `the model's ${specs.length} inputs ${describeAll(specs)} together`;
    throw inputError(
      `${file} has ${content.length} bytes but ${what} need${specs.length === 1 ? 's' : ''} ${total} bytes`,
      'a raw input file holds exactly the little-endian bytes of the input (e.g. x.astype("<f4").tofile(path)); or pass a .npy or .safetensors file, which carry the dtype and shape'
    );
  }
  let offset = 0;
  return sizes.map(size => content.subarray(offset, (offset += size)));
}
