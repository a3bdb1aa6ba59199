import { DType } from '../../common/types';
import { elementCount, ITEM_BYTES } from './safetensors';

export function byteSize(shape: readonly number[], dtype: DType): number {
  return elementCount(shape) * ITEM_BYTES[dtype];
}

/** The little-endian elements of `bytes` as plain numbers (int64 through BigInt, exact up to 2^53). */
export function toNumbers(bytes: Uint8Array, dtype: DType): Float64Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = bytes.byteLength / ITEM_BYTES[dtype];
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    switch (dtype) {
      case 'float32': out[i] = view.getFloat32(i * 4, true); break;
      case 'int32': out[i] = view.getInt32(i * 4, true); break;
      case 'int64': out[i] = Number(view.getBigInt64(i * 8, true)); break;
      case 'int8': out[i] = view.getInt8(i); break;
      case 'uint8': case 'bool': out[i] = view.getUint8(i); break;
    }
  }
  return out;
}
