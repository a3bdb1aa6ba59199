import { DType, GraphTensor } from '../../common/types';
import { MemoryLayout } from '../build/ir';
import { toNumbers } from '../bundle/dtype';
import { DumpedTensor } from './readDebugTensors';

export interface FrameworkValue {
  dtype: DType;
  shape: number[];
  data: Uint8Array;
}

export interface TensorComparison {
  maxAbsError: number;
  maxAbsReference: number;
  maxRelError: number;
  cosine: number;
  /** The error in quantization steps of the tensor (int8 images, or a quantized framework tensor). */
  quantSteps?: number;
  values: { index: number; image: number; framework: number }[];
}

const NHWC_TO_NCHW = [0, 3, 1, 2];
const NCHW_TO_NHWC = [0, 2, 3, 1];

/** The values of `data` (in memory order of `shape`) in the order perm gives: out dim k = in dim perm[k]. */
function permute(data: Float64Array, shape: number[], perm: number[]): Float64Array {
  const outShape = perm.map(p => shape[p]);
  const inStrides = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
  const out = new Float64Array(data.length);
  const index = new Array(outShape.length).fill(0);
  for (let o = 0; o < out.length; o++) {
    let i = 0;
    for (let k = 0; k < perm.length; k++) i += index[k] * inStrides[perm[k]];
    out[o] = data[i];
    for (let k = outShape.length - 1; k >= 0; k--) {
      if (++index[k] < outShape[k]) break;
      index[k] = 0;
    }
  }
  return out;
}

/** The image's tensor as real numbers in the graph tensor's own order, or why it cannot be. */
export function imageValues(t: DumpedTensor, graphShape: number[], graphLayout: MemoryLayout): Float64Array | string {
  const { dump } = t;
  let values = toNumbers(t.data, dump.dtype);
  if (dump.dtype === 'int8') {
    const scale = dump.scale ?? 1;
    const zp = dump.zero_point ?? 0;
    values = values.map(q => scale * (q - zp));
  }
  let shape = dump.shape;
  if (shape.length === 4 && dump.layout !== 'plain' && graphLayout !== 'plain' && dump.layout !== graphLayout) {
    const perm = dump.layout === 'NHWC' ? NHWC_TO_NCHW : NCHW_TO_NHWC;
    values = permute(values, shape, perm);
    shape = perm.map(p => shape[p]);
  }
  const count = graphShape.reduce((a, b) => a * b, 1);
  if (values.length !== count) return `the image holds ${values.length} values where the graph tensor has ${count}`;
  if (shape.length === graphShape.length && shape.some((d, i) => d !== graphShape[i]) && dump.layout !== 'plain') {
    return `the image's shape [${shape.join(', ')}] is not the graph's [${graphShape.join(', ')}]`;
  }
  return values;
}

/** The framework's value as real numbers: a quantized tensor's integers through its scale and zero point. */
export function frameworkValues(value: FrameworkValue, tensor: GraphTensor): Float64Array {
  const raw = toNumbers(value.data, value.dtype);
  const q = tensor.quantization;
  if (!q || value.dtype === 'float32' || q.scale.length !== 1) return raw;
  const scale = q.scale[0];
  const zp = q.zero_point[0] ?? 0;
  return raw.map(v => scale * (v - zp));
}

/** The indices shown side by side: the first few, and a few around the largest error. */
function sampleIndices(length: number, worst: number): number[] {
  const picked = new Set<number>();
  for (let i = 0; i < Math.min(4, length); i++) picked.add(i);
  for (let i = Math.max(0, worst - 3); i <= Math.min(length - 1, worst + 3); i++) picked.add(i);
  return [...picked].sort((a, b) => a - b);
}

export function compareValues(image: Float64Array, framework: Float64Array, quantScale: number | undefined): TensorComparison {
  let maxAbsError = 0;
  let worst = 0;
  let maxAbsReference = 0;
  let dot = 0;
  let imageNorm = 0;
  let frameworkNorm = 0;
  for (let i = 0; i < image.length; i++) {
    const a = image[i];
    const b = framework[i];
    const e = Math.abs(a - b);
    // NaN where the framework has a number is the largest error there is
    if (e > maxAbsError || (Number.isNaN(e) && !Number.isNaN(maxAbsError))) {
      maxAbsError = Number.isNaN(e) ? Infinity : e;
      worst = i;
    }
    maxAbsReference = Math.max(maxAbsReference, Math.abs(b));
    dot += a * b;
    imageNorm += a * a;
    frameworkNorm += b * b;
  }
  const cosine = imageNorm === 0 && frameworkNorm === 0 ? 1 : imageNorm === 0 || frameworkNorm === 0 ? 0 : dot / Math.sqrt(imageNorm * frameworkNorm);
  return {
    maxAbsError,
    maxAbsReference,
    maxRelError: maxAbsReference > 0 ? maxAbsError / maxAbsReference : maxAbsError > 0 ? Infinity : 0,
    cosine: Number.isFinite(cosine) ? cosine : 0,
    ...(quantScale ? { quantSteps: maxAbsError / quantScale } : {}),
    values: sampleIndices(image.length, worst).map(index => ({ index, image: image[index], framework: framework[index] }))
  };
}
