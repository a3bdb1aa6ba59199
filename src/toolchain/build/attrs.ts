import { EdgespecError } from '../errors';
import { AttrContext, attrMessage, OP_ATTRS } from '../ops/attrRules';
import { Activation, NO_ACTIVATION, Pair, Padding4 } from './ir';

/** Rules that depend on the input's shape are left to checkGraph, which knows it. */
const NO_SHAPES: AttrContext = { inputShapes: [] };

/**
 * Reads one node's attributes from graph.json, with errors that name the node and attribute.
 * Every value read is first held to the op's rule (src/toolchain/ops/attrRules.ts), the one
 * `edgespec inspect` applies, so that the build refuses exactly what inspect refuses.
 */
export class AttrReader {
  private readonly attrs: Record<string, unknown>;

  constructor(
    private readonly nodeName: string,
    private readonly op: string,
    attrs: Record<string, unknown>
  ) {
    const rules = OP_ATTRS[op] ?? {};
    for (const [key, value] of Object.entries(attrs ?? {})) {
      const rule = rules[key]?.rule;
      if (rule && value !== undefined && !rule.accepts(value, NO_SHAPES)) this.fail(key, rule.allowed(NO_SHAPES), value);
    }
    this.attrs = attrs ?? {};
  }

  private fail(key: string, expected: string, value: unknown = this.attrs[key]): never {
    throw new EdgespecError(
      'bad-graph',
      attrMessage(this.nodeName, this.op, key, value, OP_ATTRS[this.op]?.[key]?.rule.allowed(NO_SHAPES) ?? expected),
      'the bundle does not follow src/common/ops.json (see docs/ops.md); capture the model again with this version of edgespec'
    );
  }

  has(key: string): boolean {
    return this.attrs[key] !== undefined && this.attrs[key] !== null;
  }

  int(key: string, fallback?: number): number {
    const v = this.attrs[key];
    if (v === undefined && fallback !== undefined) return fallback;
    if (typeof v !== 'number' || !Number.isInteger(v)) this.fail(key, 'an integer');
    return v;
  }

  number(key: string, fallback?: number): number {
    const v = this.attrs[key];
    if (v === undefined && fallback !== undefined) return fallback;
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(key, 'a number');
    return v;
  }

  /** A number, or null/absent for "no bound". */
  optionalNumber(key: string): number | null {
    const v = this.attrs[key];
    if (v === undefined || v === null) return null;
    if (typeof v !== 'number' || Number.isNaN(v)) this.fail(key, 'a number or null');
    return v;
  }

  bool(key: string, fallback: boolean): boolean {
    const v = this.attrs[key];
    if (v === undefined) return fallback;
    if (typeof v !== 'boolean') this.fail(key, 'true or false');
    return v;
  }

  ints(key: string, fallback?: number[]): number[] {
    const v = this.attrs[key];
    if (v === undefined && fallback !== undefined) return fallback;
    if (!Array.isArray(v) || !v.every(x => typeof x === 'number' && Number.isInteger(x))) this.fail(key, 'a list of integers');
    return v as number[];
  }

  /** An int or [a, b]. */
  pair(key: string, fallback?: Pair): Pair {
    const v = this.attrs[key];
    if (v === undefined && fallback !== undefined) return fallback;
    if (typeof v === 'number' && Number.isInteger(v)) return [v, v];
    const list = this.ints(key);
    if (list.length === 1) return [list[0], list[0]];
    if (list.length !== 2) this.fail(key, '[h, w]');
    return [list[0], list[1]];
  }

  /** [top, left, bottom, right]; [h, w] and a single int are symmetric shorthands. */
  padding(key: string): Padding4 {
    const v = this.attrs[key];
    if (v === undefined) return [0, 0, 0, 0];
    if (typeof v === 'number' && Number.isInteger(v)) return [v, v, v, v];
    const list = this.ints(key);
    if (list.length === 2) return [list[0], list[1], list[0], list[1]];
    if (list.length !== 4) this.fail(key, '[top, left, bottom, right]');
    return [list[0], list[1], list[2], list[3]];
  }

  oneOf<T extends string>(key: string, choices: readonly T[], fallback: T): T {
    const v = this.attrs[key];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'string' || !choices.includes(v as T)) this.fail(key, `one of ${choices.join(', ')}`);
    return v as T;
  }

  pairs(key: string): Pair[] {
    const v = this.attrs[key];
    if (!Array.isArray(v) || !v.every(p => Array.isArray(p) && p.length === 2 && p.every(x => Number.isInteger(x)))) {
      this.fail(key, 'a list of [before, after] pairs');
    }
    return (v as number[][]).map(p => [p[0], p[1]] as Pair);
  }

  /** The fused activation of TFLite-style ops: none, relu or relu6. */
  activation(key = 'activation'): Activation {
    switch (this.oneOf(key, ['none', 'relu', 'relu6'] as const, 'none')) {
      case 'relu':
        return { min: 0, max: Infinity };
      case 'relu6':
        return { min: 0, max: 6 };
      default:
        return NO_ACTIVATION;
    }
  }
}
