// The platforms' input/output file format (kernels/include/edgespec/io_format.h):
// "EDGESPEC", version 1, kind, count, reserved, bytes[count], then each tensor 64-byte aligned.

export const IO_KIND_INPUTS = 1;
export const IO_KIND_OUTPUTS = 2;
const MAGIC = Buffer.from('EDGESPEC', 'latin1');
const VERSION = 1;
const ALIGN = 64;
const MAX_TENSORS = 16;

const roundUp = (n: number) => Math.ceil(n / ALIGN) * ALIGN;
const dataOffset = (count: number) => roundUp(24 + 4 * count);
const kindName = (kind: number) => (kind === IO_KIND_INPUTS ? 'inputs' : kind === IO_KIND_OUTPUTS ? 'outputs' : `kind ${kind}`);

/** The size of an I/O file holding tensors of these sizes. */
export function encodedIoFileBytes(tensorBytes: readonly number[]): number {
  return dataOffset(tensorBytes.length) + tensorBytes.reduce((sum, b) => sum + roundUp(b), 0);
}

export function encodeIoFile(kind: number, tensors: readonly Uint8Array[]): Buffer {
  if (tensors.length < 1 || tensors.length > MAX_TENSORS) throw new Error(`an edgespec I/O file holds 1 to ${MAX_TENSORS} tensors, not ${tensors.length}`);
  const size = encodedIoFileBytes(tensors.map(t => t.byteLength));
  const file = Buffer.alloc(size);
  MAGIC.copy(file, 0);
  file.writeUInt32LE(VERSION, 8);
  file.writeUInt32LE(kind, 12);
  file.writeUInt32LE(tensors.length, 16);
  file.writeUInt32LE(0, 20);
  let offset = dataOffset(tensors.length);
  tensors.forEach((t, i) => {
    file.writeUInt32LE(t.byteLength, 24 + 4 * i);
    file.set(t, offset);
    offset += roundUp(t.byteLength);
  });
  return file;
}

/** The tensors of an I/O file whose sizes must be `expectedBytes`; throws a message naming the mismatch. */
export function decodeIoFile(file: Buffer, kind: number, expectedBytes: readonly number[]): Buffer[] {
  if (file.length < 24) throw new Error(`the file is ${file.length} bytes, shorter than the 24-byte edgespec header`);
  if (!file.subarray(0, 8).equals(MAGIC)) throw new Error('no edgespec header (magic "EDGESPEC" missing)');
  const version = file.readUInt32LE(8);
  if (version !== VERSION) throw new Error(`header version ${version}, expected ${VERSION}`);
  const actualKind = file.readUInt32LE(12);
  if (actualKind !== kind) throw new Error(`the file holds ${kindName(actualKind)}, expected ${kindName(kind)}`);
  const count = file.readUInt32LE(16);
  if (count !== expectedBytes.length) throw new Error(`the file holds ${count} tensors, the model has ${expectedBytes.length}`);
  if (file.length < dataOffset(count)) throw new Error('the file is truncated inside its header');
  let offset = dataOffset(count);
  const tensors: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const bytes = file.readUInt32LE(24 + 4 * i);
    if (bytes !== expectedBytes[i]) throw new Error(`tensor ${i} is ${bytes} bytes, the model's is ${expectedBytes[i]}`);
    tensors.push(file.subarray(offset, offset + bytes));
    offset += roundUp(bytes);
  }
  if (file.length !== offset) throw new Error(`the file is ${file.length} bytes, its header says ${offset}`);
  return tensors;
}
