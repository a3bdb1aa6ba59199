import { DType } from '../../common/types';
import { formatShape } from '../bundle/safetensors';
import { byteSize } from '../bundle/dtype';

/** A tensor read from a NumPy .npy file: little-endian, C order. */
export interface NpyArray {
  dtype: DType;
  shape: number[];
  data: Buffer;
}

const MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]); // \x93NUMPY

const DESCR_TO_DTYPE: Record<string, DType> = {
  '<f4': 'float32',
  '|i1': 'int8',
  '|u1': 'uint8',
  '<i4': 'int32',
  '<i8': 'int64',
  '|b1': 'bool'
};
const DTYPE_TO_DESCR: Record<DType, string> = Object.fromEntries(
  Object.entries(DESCR_TO_DTYPE).map(([descr, dtype]) => [dtype, descr])
) as Record<DType, string>;

/** Thrown with a message that names the problem; callers add the file name. */
export class NpyFormatError extends Error {}

/** NumPy's names for descriptors a user is likely to hand us by mistake. */
function describeDescr(descr: string): string {
  const names: Record<string, string> = { '<f8': 'float64', '<f2': 'float16', '<i2': 'int16', '<u2': 'uint16', '<u4': 'uint32', '<u8': 'uint64' };
  return names[descr] ? `${names[descr]} ('${descr}')` : `'${descr}'`;
}

export function parseNpy(file: Buffer): NpyArray {
  if (file.length < 10 || !file.subarray(0, 6).equals(MAGIC)) {
    throw new NpyFormatError('not a NumPy .npy file (the magic bytes \\x93NUMPY are missing)');
  }
  const major = file[6];
  let headerLength: number;
  let headerStart: number;
  if (major === 1) {
    headerLength = file.readUInt16LE(8);
    headerStart = 10;
  } else if (major === 2 || major === 3) {
    if (file.length < 12) throw new NpyFormatError('truncated .npy header');
    headerLength = file.readUInt32LE(8);
    headerStart = 12;
  } else {
    throw new NpyFormatError(`unsupported .npy format version ${major}`);
  }
  if (headerStart + headerLength > file.length) throw new NpyFormatError('truncated .npy header');
  const header = file.subarray(headerStart, headerStart + headerLength).toString(major === 3 ? 'utf8' : 'latin1');

  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    throw new NpyFormatError(`unreadable .npy header: ${header.trim()}`);
  }
  const dtype = DESCR_TO_DTYPE[descr];
  if (!dtype) {
    throw new NpyFormatError(`dtype ${describeDescr(descr)} is not one edgespec reads (float32, int8, uint8, int32, int64, bool, little-endian)`);
  }
  if (fortran === 'True') {
    throw new NpyFormatError('the array is in Fortran order; save np.ascontiguousarray(x) instead');
  }
  const shape = shapeText
    .split(',')
    .map(s => s.trim())
    .filter(s => s.length > 0)
    .map(s => Number(s.replace(/L$/, '')));
  if (shape.some(d => !Number.isInteger(d) || d < 0)) throw new NpyFormatError(`bad shape (${shapeText}) in .npy header`);

  const dataStart = headerStart + headerLength;
  const expected = byteSize(shape, dtype);
  const actual = file.length - dataStart;
  if (actual !== expected) {
    throw new NpyFormatError(`holds ${actual} data bytes but a ${dtype} array of shape ${formatShape(shape)} needs ${expected}`);
  }
  return { dtype, shape, data: file.subarray(dataStart) };
}

/** A version 1.0 .npy file (header padded so the data starts on a 64-byte boundary). */
export function encodeNpy(array: NpyArray): Buffer {
  const shape = array.shape.length === 1 ? `(${array.shape[0]},)` : `(${array.shape.join(', ')})`;
  let header = `{'descr': '${DTYPE_TO_DESCR[array.dtype]}', 'fortran_order': False, 'shape': ${shape}, }`;
  const unpadded = 10 + header.length + 1;
  header += ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const prefix = Buffer.alloc(10);
  MAGIC.copy(prefix, 0);
  prefix[6] = 1;
  prefix[7] = 0;
  prefix.writeUInt16LE(header.length, 8);
  return Buffer.concat([prefix, Buffer.from(header, 'latin1'), array.data]);
}
