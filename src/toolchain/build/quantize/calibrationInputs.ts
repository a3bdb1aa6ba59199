import { promises as fs } from 'fs';
import * as path from 'path';
import { Bundle } from '../../bundle/loadBundle';
import { readSafetensors, SafetensorsTensor } from '../../bundle/safetensors';
import { EdgespecError } from '../../errors';
import { numel } from '../shape';
import { toNumbers } from '../../bundle/dtype';

const FORMAT_HINT = 'pass a .safetensors file of float32 tensors, or a directory of float32 .npy files, each shaped like the model input';

function floats(data: Buffer): Float32Array {
  const out = new Float32Array(data.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = data.readFloatLE(i * 4);
  return out;
}

/** The bundle's reference input(s): one calibration set. An integer input (indices) is held as its values. */
export function referenceInputs(bundle: Bundle): Float32Array[] {
  return bundle.graph.reference.inputs.map((name, i) => {
    const data = bundle.reference.tensors.get(name)!.data;
    const dtype = bundle.graph.inputs[i].dtype;
    return dtype === 'float32' ? floats(data) : Float32Array.from(toNumbers(data, dtype));
  });
}

/** A float32 little-endian .npy file (format 1.0–3.0, C order). */
function parseNpy(buffer: Buffer, file: string): { shape: number[]; data: Float32Array } {
  if (buffer.length < 10 || buffer.toString('latin1', 0, 6) !== '\x93NUMPY') throw new EdgespecError('calibration-format', `${file} is not a .npy file`, FORMAT_HINT);
  const major = buffer[6];
  const headerLength = major === 1 ? buffer.readUInt16LE(8) : buffer.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const header = buffer.toString('latin1', start, start + headerLength);
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*True/.test(header);
  const shape = (/'shape':\s*\(([^)]*)\)/.exec(header)?.[1] ?? '').split(',').map(s => s.trim()).filter(Boolean).map(Number);
  if (descr !== '<f4' || fortran) throw new EdgespecError('calibration-format', `${file} holds ${descr ?? 'unknown'}${fortran ? ' in Fortran order' : ''}, not C-ordered float32`, `save it with numpy.save(path, array.astype(numpy.float32)); ${FORMAT_HINT}`);
  const body = buffer.subarray(start + headerLength);
  if (body.length !== numel(shape) * 4) throw new EdgespecError('calibration-format', `${file} is truncated`, FORMAT_HINT);
  return { shape, data: floats(body) };
}

/** Splits a tensor shaped [N, ...input] (or exactly the input) into N input sets. */
function split(data: Float32Array, shape: number[], inputShape: number[], label: string): Float32Array[] {
  const each = numel(inputShape);
  if (data.length === 0 || data.length % each !== 0) {
    throw new EdgespecError('calibration-shape', `${label} has shape [${shape.join(', ')}], which is not the model input [${inputShape.join(', ')}] or a batch of it`, FORMAT_HINT);
  }
  const sets: Float32Array[] = [];
  for (let i = 0; i < data.length; i += each) sets.push(data.slice(i, i + each));
  return sets;
}

/** Calibration inputs the user passed with --calibration (single-input models). */
export async function userCalibrationInputs(file: string, bundle: Bundle): Promise<Float32Array[][]> {
  if (bundle.graph.inputs.length !== 1) {
    throw new EdgespecError('calibration-inputs', `--calibration supports models with one input; ${bundle.graph.name} has ${bundle.graph.inputs.length}`, 'put the activation ranges into the bundle\'s "calibration" field instead');
  }
  const inputShape = bundle.graph.inputs[0].shape;
  let stat;
  try {
    stat = await fs.stat(file);
  } catch {
    throw new EdgespecError('calibration-missing', `the calibration set ${file} does not exist`, FORMAT_HINT);
  }
  const sets: Float32Array[] = [];
  if (stat.isDirectory()) {
    const names = (await fs.readdir(file)).filter(n => n.endsWith('.npy')).sort();
    if (names.length === 0) throw new EdgespecError('calibration-empty', `the calibration directory ${file} holds no .npy files`, FORMAT_HINT);
    for (const n of names) {
      const { shape, data } = parseNpy(await fs.readFile(path.join(file, n)), n);
      sets.push(...split(data, shape, inputShape, n));
    }
  } else {
    const st = await readSafetensors(file);
    const tensors: SafetensorsTensor[] = [...st.tensors.values()];
    if (tensors.length === 0) throw new EdgespecError('calibration-empty', `${file} holds no tensors`, FORMAT_HINT);
    for (const t of tensors) {
      if (t.dtype !== 'float32') throw new EdgespecError('calibration-format', `tensor ${t.name} of ${file} is ${t.dtype}, not float32`, FORMAT_HINT);
      sets.push(...split(floats(t.data), t.shape, inputShape, `tensor ${t.name} of ${file}`));
    }
  }
  return sets.map(s => [s]);
}
