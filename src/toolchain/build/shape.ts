// Small shape arithmetic shared by the passes, the planner and the code generator.

export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Row-major strides in elements. */
export function denseStrides(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i];
  }
  return strides;
}

/** out[k] = values[perm[k]] */
export function permute<T>(values: readonly T[], perm: readonly number[]): T[] {
  return perm.map(p => values[p]);
}

export function inversePerm(perm: readonly number[]): number[] {
  const inv = new Array<number>(perm.length);
  perm.forEach((p, k) => (inv[p] = k));
  return inv;
}

export function isIdentityPerm(perm: readonly number[]): boolean {
  return perm.every((p, k) => p === k);
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** Axis order of NHWC memory in NCHW terms: memory dim k holds logical dim NHWC_FROM_NCHW[k]. */
export const NHWC_FROM_NCHW: readonly number[] = [0, 2, 3, 1];
/** Memory dim of NHWC that holds logical NCHW dim d. */
export const NCHW_TO_NHWC_AXIS: readonly number[] = [0, 3, 1, 2];

/**
 * The same elements are in the same order in NCHW and NHWC memory when channels are 1
 * or the spatial size is 1x1: then a tensor can change layout without moving a byte.
 */
export function layoutChangeIsFree(nchwShape: readonly number[]): boolean {
  const [, c, h, w] = nchwShape;
  return c === 1 || (h === 1 && w === 1);
}

/** Rounds up to a multiple of `alignment` (a power of two). */
export function alignUp(value: number, alignment: number): number {
  return Math.ceil(value / alignment) * alignment;
}

/**
 * Broadcast strides of an operand for an elementwise op: `shape` is right-aligned against
 * an output of `rank` dims; dims of size 1 get stride 0 (broadcast, or size 1 anyway).
 */
export function broadcastStrides(shape: readonly number[], rank: number): number[] {
  const padded = [...new Array<number>(rank - shape.length).fill(1), ...shape];
  const dense = denseStrides(padded);
  return padded.map((d, i) => (d === 1 ? 0 : dense[i]));
}

/** Moves the elements of a dense tensor so that out.shape[k] = shape[perm[k]]. */
export function transposeData(data: Float32Array, shape: readonly number[], perm: readonly number[]): Float32Array {
  const rank = shape.length;
  const outShape = permute(shape, perm);
  const inStrides = denseStrides(shape);
  const stridesInOutOrder = permute(inStrides, perm);
  const out = new Float32Array(data.length);
  const index = new Array<number>(rank).fill(0);
  for (let o = 0; o < out.length; o++) {
    let src = 0;
    for (let k = 0; k < rank; k++) src += index[k] * stridesInOutOrder[k];
    out[o] = data[src];
    for (let k = rank - 1; k >= 0; k--) {
      if (++index[k] < outShape[k]) break;
      index[k] = 0;
    }
  }
  return out;
}
