import { DType } from '../../common/types';

/** NaN and ±Inf among the little-endian values of `bytes` (only floating-point dtypes have any). */
export function countNonFinite(bytes: Uint8Array, dtype: DType): number {
  if (dtype !== 'float32') return 0;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let count = 0;
  for (let offset = 0; offset + 4 <= bytes.byteLength; offset += 4) {
    if (!Number.isFinite(view.getFloat32(offset, true))) count++;
  }
  return count;
}

export interface NonFiniteTally {
  total: number;
  /** "'x' 1 of 150528", one entry per tensor that holds any. */
  where: string[];
}

export function tallyNonFinite(tensors: { name: string; dtype: DType; data: Uint8Array; elements: number }[]): NonFiniteTally {
  let total = 0;
  const where: string[] = [];
  for (const t of tensors) {
    const count = countNonFinite(t.data, t.dtype);
    total += count;
    if (count > 0) where.push(`'${t.name}' ${count} of ${t.elements}`);
  }
  return { total, where };
}

export function values(count: number): string {
  return `${count} NaN or infinite value${count === 1 ? '' : 's'}`;
}
