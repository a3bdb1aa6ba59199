import { PackedWeight } from './schedule';
import { alignUp } from './shape';

export const WEIGHT_ALIGNMENT = 64;

export interface BlobEntry {
  name: string;
  source: string;
  module: string;
  shape: number[];
  packing: string;
  offset: number;
  bytes: number;
}

export interface WeightsBlob {
  /** The bytes of weights.bin: every tensor little-endian fp32, each starting on a 64-byte boundary. */
  data: Buffer;
  entries: BlobEntry[];
  byName: Map<string, BlobEntry>;
  /** Sum of the tensors' own bytes, without alignment padding. */
  tensorBytes: number;
}

/** Lays the weights out in schedule order (first use), each 64-byte aligned. */
export function layoutWeights(weights: PackedWeight[]): WeightsBlob {
  const entries: BlobEntry[] = [];
  let offset = 0;
  for (const w of weights) {
    offset = alignUp(offset, WEIGHT_ALIGNMENT);
    const bytes = w.data.length * (w.dtype === 'int64' ? 8 : 4);
    entries.push({ name: w.name, source: w.source, module: w.module, shape: [...w.shape], packing: w.packing, offset, bytes });
    offset += bytes;
  }
  const data = Buffer.alloc(offset);
  weights.forEach((w, i) => {
    if (w.dtype) {
      integerBytes(w.data, w.dtype).copy(data, entries[i].offset);
      return;
    }
    const bytes = Buffer.from(w.data.buffer, w.data.byteOffset, w.data.byteLength);
    if (isLittleEndian()) bytes.copy(data, entries[i].offset);
    else for (let k = 0; k < w.data.length; k++) data.writeFloatLE(w.data[k], entries[i].offset + k * 4);
  });
  return {
    data,
    entries,
    byName: new Map(entries.map(e => [e.name, e])),
    tensorBytes: entries.reduce((sum, e) => sum + e.bytes, 0)
  };
}

/** An integer constant's values (held as float32 numbers, whole and exact) in its own dtype, little-endian. */
export function integerBytes(values: Float32Array, dtype: 'int32' | 'int64'): Buffer {
  const size = dtype === 'int64' ? 8 : 4;
  const b = Buffer.alloc(values.length * size);
  values.forEach((v, k) => (dtype === 'int64' ? b.writeBigInt64LE(BigInt(v), k * 8) : b.writeInt32LE(v, k * 4)));
  return b;
}

function isLittleEndian(): boolean {
  return new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
}
