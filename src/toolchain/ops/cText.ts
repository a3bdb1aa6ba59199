// Pieces of C text the kernel calls of model.c are written with.

import { Activation } from '../build/ir';
import { Shape4 } from '../build/schedule';

/** A float as a C literal that converts back to exactly the same float32. */
export function floatLiteral(value: number): string {
  if (value === Infinity) return 'INFINITY';
  if (value === -Infinity) return '-INFINITY';
  if (Number.isNaN(value)) return 'NAN';
  let text = String(Math.fround(value));
  if (!/[.eE]/.test(text)) text += '.0';
  return `${text}f`;
}

export const shape4 = (s: Shape4) => `(es_shape4){${s.n}, ${s.h}, ${s.w}, ${s.c}}`;
export const ints = (values: number[]) => `(const int32_t[]){${values.join(', ')}}`;
/** A fused activation's bounds as two float arguments. */
export const act = (a: Activation) => `${floatLiteral(a.min)}, ${floatLiteral(a.max)}`;
