import { alignUp } from '../shape';
import { BlobEntry, WEIGHT_ALIGNMENT, WeightsBlob } from '../weightsBlob';
import { RawWeight } from './quantizeSchedule';

/** weights.bin of an int8 image: int8 / int32 / fp32 tensors in schedule order, each 64-byte aligned. */
export function layoutRawWeights(weights: RawWeight[]): WeightsBlob {
  const entries: BlobEntry[] = [];
  let offset = 0;
  for (const w of weights) {
    offset = alignUp(offset, WEIGHT_ALIGNMENT);
    entries.push({ name: w.name, source: w.source, module: w.module, shape: [...w.shape], packing: w.packing, offset, bytes: w.bytes.length });
    offset += w.bytes.length;
  }
  const data = Buffer.alloc(offset);
  weights.forEach((w, i) => w.bytes.copy(data, entries[i].offset));
  return { data, entries, byName: new Map(entries.map(e => [e.name, e])), tensorBytes: entries.reduce((s, e) => s + e.bytes, 0) };
}
