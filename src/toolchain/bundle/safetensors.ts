import { promises as fs } from 'fs';
import * as path from 'path';
import { DType } from '../../common/types';
import { EdgespecError } from '../errors';
import { readRegularFile } from '../readRegularFile';

/**
 * Reader and writer of the safetensors format: an 8-byte little-endian header length, a
 * JSON header mapping each tensor name to {dtype, shape, data_offsets} (plus an optional
 * `__metadata__` of strings), then the data section that the offsets index into.
 */

const DTYPE_FROM_FILE: Record<string, DType> = {
  F32: 'float32',
  I8: 'int8',
  U8: 'uint8',
  I32: 'int32',
  I64: 'int64',
  BOOL: 'bool'
};

const DTYPE_TO_FILE: Record<DType, string> = {
  float32: 'F32',
  int8: 'I8',
  uint8: 'U8',
  int32: 'I32',
  int64: 'I64',
  bool: 'BOOL'
};

export const ITEM_BYTES: Record<DType, number> = {
  float32: 4,
  int8: 1,
  uint8: 1,
  int32: 4,
  int64: 8,
  bool: 1
};

/** The same limit as the reference implementation: a larger header is a damaged file. */
const MAX_HEADER_BYTES = 100 * 1024 * 1024;

export interface SafetensorsTensor {
  name: string;
  dtype: DType;
  shape: number[];
  /** A view of the tensor's bytes inside the file's buffer (not copied, maybe unaligned). */
  data: Buffer;
}

export interface SafetensorsFile {
  /** Where the file came from, used in messages. */
  label: string;
  byteLength: number;
  metadata: Record<string, string>;
  /** In data order. */
  tensors: Map<string, SafetensorsTensor>;
}

export interface TensorToWrite {
  name: string;
  dtype: DType;
  shape: number[];
  data: ArrayBufferView;
}

export class SafetensorsError extends EdgespecError {
  constructor(label: string, problem: string) {
    super('safetensors-invalid', `${label}: ${problem}`, 'the file is damaged or was not written by safetensors; write it again (for a bundle: capture the model again)');
  }
}

export function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

interface HeaderEntry {
  name: string;
  dtype: DType;
  shape: number[];
  begin: number;
  end: number;
}

export function parseSafetensors(buffer: Buffer, label: string): SafetensorsFile {
  const fail = (problem: string): never => {
    throw new SafetensorsError(label, problem);
  };
  if (buffer.length < 8) fail(`the file is ${buffer.length} bytes, too short for the 8-byte header length: it is truncated`);
  const declaredHeaderBytes = buffer.readBigUInt64LE(0);
  if (declaredHeaderBytes > BigInt(buffer.length - 8)) {
    fail(`the header length ${declaredHeaderBytes} goes beyond the end of the file (${buffer.length} bytes): the file is truncated or not a safetensors file`);
  }
  const headerBytes = Number(declaredHeaderBytes);
  if (headerBytes > MAX_HEADER_BYTES) fail(`the header length ${headerBytes} is larger than the ${MAX_HEADER_BYTES}-byte limit`);

  let header: unknown;
  try {
    header = JSON.parse(buffer.toString('utf8', 8, 8 + headerBytes));
  } catch (e) {
    fail(`the header is not valid JSON (${(e as Error).message})`);
  }
  if (!isPlainObject(header)) return fail('the header is not a JSON object');

  const metadata = parseMetadata(header.__metadata__, fail);
  const entries = Object.entries(header)
    .filter(([name]) => name !== '__metadata__')
    .map(([name, raw]) => parseHeaderEntry(name, raw, fail));

  const data = buffer.subarray(8 + headerBytes);
  checkLayout(entries, data.length, fail);

  const tensors = new Map<string, SafetensorsTensor>();
  for (const e of entries) {
    tensors.set(e.name, { name: e.name, dtype: e.dtype, shape: e.shape, data: data.subarray(e.begin, e.end) });
  }
  return { label, byteLength: buffer.length, metadata, tensors };
}

function parseMetadata(raw: unknown, fail: (problem: string) => never): Record<string, string> {
  if (raw === undefined) return {};
  if (!isPlainObject(raw)) return fail('__metadata__ is not an object of strings');
  for (const [key, value] of Object.entries(raw)) {
    if (typeof value !== 'string') fail(`__metadata__ entry '${key}' is not a string`);
  }
  return raw as Record<string, string>;
}

function parseHeaderEntry(name: string, raw: unknown, fail: (problem: string) => never): HeaderEntry {
  if (!isPlainObject(raw)) return fail(`the header entry of tensor '${name}' is not an object`);
  const fileDtype = raw.dtype;
  if (typeof fileDtype !== 'string') return fail(`tensor '${name}' has no dtype`);
  const dtype = DTYPE_FROM_FILE[fileDtype];
  if (!dtype) return fail(`tensor '${name}' has dtype ${fileDtype}, which edgespec does not support (supported: ${Object.keys(DTYPE_FROM_FILE).join(', ')})`);
  const shape = raw.shape;
  if (!Array.isArray(shape) || !shape.every(isNonNegativeInteger)) return fail(`tensor '${name}' has shape ${JSON.stringify(shape)}, not a list of non-negative integers`);
  const offsets = raw.data_offsets;
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isNonNegativeInteger) || offsets[0] > offsets[1]) {
    return fail(`tensor '${name}' has data_offsets ${JSON.stringify(offsets)}, not [begin, end] with 0 <= begin <= end`);
  }
  const [begin, end] = offsets as number[];
  const expected = elementCount(shape) * ITEM_BYTES[dtype];
  if (end - begin !== expected) {
    fail(`tensor '${name}' holds ${end - begin} bytes, but ${dtype} ${formatShape(shape)} needs ${expected} (${elementCount(shape)} elements of ${ITEM_BYTES[dtype]} bytes)`);
  }
  return { name, dtype, shape, begin, end };
}

/** The data section must be covered exactly: in range, no overlap, no gap, nothing after the last tensor. */
function checkLayout(entries: HeaderEntry[], dataBytes: number, fail: (problem: string) => never): void {
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let position = 0;
  let previous: HeaderEntry | undefined;
  for (const e of entries) {
    if (e.end > dataBytes) {
      fail(`tensor '${e.name}' data_offsets [${e.begin}, ${e.end}] go beyond the data section (${dataBytes} bytes): the file is truncated`);
    }
    if (previous && e.begin < position) {
      fail(`tensor '${e.name}' data_offsets [${e.begin}, ${e.end}] overlap tensor '${previous.name}' [${previous.begin}, ${previous.end}]`);
    }
    if (e.begin > position) fail(`${e.begin - position} bytes before tensor '${e.name}' (offset ${position} to ${e.begin}) belong to no tensor`);
    position = e.end;
    previous = e;
  }
  if (position !== dataBytes) fail(`the data section is ${dataBytes} bytes but the tensors end at ${position}: ${dataBytes - position} bytes belong to no tensor`);
}

/** Reads a regular file of at most `maxBytes` (a FIFO or device is refused, never read). */
export async function readSafetensors(file: string, label = path.basename(file), maxBytes = Number.MAX_SAFE_INTEGER): Promise<SafetensorsFile> {
  let buffer: Buffer;
  try {
    buffer = await readRegularFile(file, { what: 'safetensors file', maxBytes, hint: 'pass a regular .safetensors file' });
  } catch (e) {
    if (e instanceof EdgespecError) throw e;
    throw new EdgespecError('file-unreadable', `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, 'check that the file exists and is readable');
  }
  return parseSafetensors(buffer, label);
}

export function encodeSafetensors(tensors: readonly TensorToWrite[], metadata?: Record<string, string>): Buffer {
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  const chunks: Buffer[] = [];
  for (const t of tensors) {
    if (t.name === '__metadata__' || t.name in header) throw new EdgespecError('safetensors-write', `cannot write tensor name '${t.name}' twice or as __metadata__`);
    const bytes = Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    const expected = elementCount(t.shape) * ITEM_BYTES[t.dtype];
    if (bytes.length !== expected) {
      throw new EdgespecError('safetensors-write', `tensor '${t.name}' has ${bytes.length} bytes, but ${t.dtype} ${formatShape(t.shape)} needs ${expected}`);
    }
    header[t.name] = { dtype: DTYPE_TO_FILE[t.dtype], shape: t.shape, data_offsets: [offset, offset + bytes.length] };
    offset += bytes.length;
    chunks.push(bytes);
  }
  let json = JSON.stringify(header);
  // Pad with spaces so the data section starts 8-byte aligned, as the reference writer does.
  json += ' '.repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8);
  const headerBytes = Buffer.from(json, 'utf8');
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(headerBytes.length));
  return Buffer.concat([length, headerBytes, ...chunks]);
}

/** Writes next to the target, then renames, so a reader never sees half a file. */
export async function writeSafetensors(file: string, tensors: readonly TensorToWrite[], metadata?: Record<string, string>): Promise<void> {
  const temporary = `${file}.tmp-${process.pid}-${Date.now()}`;
  try {
    await fs.writeFile(temporary, encodeSafetensors(tensors, metadata));
    await fs.rename(temporary, file);
  } catch (e) {
    await fs.rm(temporary, { force: true });
    throw e;
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isNonNegativeInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}
