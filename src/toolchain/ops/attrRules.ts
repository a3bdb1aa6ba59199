/**
 * The attributes of every op of the vocabulary (src/common/ops.json) and the values each may
 * take: one place, read by `edgespec inspect` (bundle/checkGraph.ts) and by the build's
 * attribute reader (build/attrs.ts), so that both accept and refuse the same graphs with the
 * same message. test/ts/foundation/attrRules.test.ts checks that this table names exactly
 * the ops and attributes of ops.json.
 */

/** What a rule may look at besides the value: the shapes of the node's inputs (where declared) and its output count. */
export interface AttrContext {
  inputShapes: (readonly number[] | undefined)[];
  /** Undefined where unknown: the rules that need it then check the rest. */
  outputCount?: number;
}

export interface AttrRule {
  /** What is allowed, for the message: "[sh, sw], two integers >= 1". */
  allowed(ctx: AttrContext): string;
  accepts(value: unknown, ctx: AttrContext): boolean;
}

interface AttrSpec {
  rule: AttrRule;
  required: boolean;
}

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v);
const isIntList = (v: unknown): v is number[] => Array.isArray(v) && v.every(isInt);
const rankOf = (ctx: AttrContext): number | undefined => ctx.inputShapes[0]?.length;
const rankWords = (ctx: AttrContext): string => (rankOf(ctx) === undefined ? 'the input rank' : `${rankOf(ctx)}, the input's rank`);

const COUNT_WORDS: Record<number, string> = { 2: 'two', 4: 'four' };

function ints(count: number, names: string, min: number): AttrRule {
  return {
    allowed: () => `${names}, ${COUNT_WORDS[count] ?? count} integers >= ${min}`,
    accepts: v => isIntList(v) && v.length === count && v.every(x => x >= min)
  };
}

function int(min: number): AttrRule {
  return { allowed: () => `an integer >= ${min}`, accepts: v => isInt(v) && v >= min };
}

function orNull(rule: AttrRule): AttrRule {
  return { allowed: ctx => `${rule.allowed(ctx)}, or null`, accepts: (v, ctx) => v === null || rule.accepts(v, ctx) };
}

const finiteNumber: AttrRule = { allowed: () => 'a finite number', accepts: v => typeof v === 'number' && Number.isFinite(v) };
const nonNegativeNumber: AttrRule = { allowed: () => 'a finite number >= 0', accepts: v => typeof v === 'number' && Number.isFinite(v) && v >= 0 };
const positiveNumber: AttrRule = { allowed: () => 'a finite number > 0', accepts: v => typeof v === 'number' && Number.isFinite(v) && v > 0 };
const bool: AttrRule = { allowed: () => 'true or false', accepts: v => typeof v === 'boolean' };

function oneOf(...choices: string[]): AttrRule {
  return { allowed: () => `one of ${choices.map(c => JSON.stringify(c)).join(', ')}`, accepts: v => typeof v === 'string' && choices.includes(v) };
}

/** An axis of the (first) input: 0 .. rank-1. */
const axis: AttrRule = {
  allowed: ctx => `an integer from 0 to ${rankOf(ctx) === undefined ? 'rank - 1' : rankOf(ctx)! - 1} (an axis of the input; its rank is ${rankWords(ctx)})`,
  accepts: (v, ctx) => isInt(v) && v >= 0 && v < (rankOf(ctx) ?? Infinity)
};

const axes: AttrRule = {
  allowed: ctx => `a list of distinct axes of the input, integers from 0 to ${rankOf(ctx) === undefined ? 'rank - 1' : rankOf(ctx)! - 1}`,
  accepts: (v, ctx) => isIntList(v) && new Set(v).size === v.length && v.every(a => a >= 0 && a < (rankOf(ctx) ?? Infinity))
};

const perm: AttrRule = {
  allowed: ctx => `a permutation of the input's axes 0 .. ${rankOf(ctx) === undefined ? 'rank - 1' : rankOf(ctx)! - 1}`,
  accepts: (v, ctx) => {
    const rank = rankOf(ctx) ?? (Array.isArray(v) ? v.length : 0);
    return isIntList(v) && v.length === rank && [...v].sort((a, b) => a - b).every((p, i) => p === i);
  }
};

function elementCount(shape: readonly number[]): number {
  return shape.reduce((n, d) => n * d, 1);
}

/** reshape's target shape: as many elements as the input. */
const reshapeShape: AttrRule = {
  allowed: ctx => `a list of integers >= 0 with as many elements as the input${ctx.inputShapes[0] ? ` (${elementCount(ctx.inputShapes[0])})` : ''}`,
  accepts: (v, ctx) => isIntList(v) && v.every(d => d >= 0) && (ctx.inputShapes[0] === undefined || elementCount(v) === elementCount(ctx.inputShapes[0]))
};

/** split's sizes: one per output, summing to the input's size along `axis` (checked by the op's extra rule). */
const splitSizes: AttrRule = {
  allowed: ctx => `a list of ${ctx.outputCount ?? 'N'} integers >= 0, one per output, that sum to the input's size along axis`,
  accepts: (v, ctx) => isIntList(v) && (ctx.outputCount === undefined || v.length === ctx.outputCount) && v.every(s => s >= 0)
};

/** pad's pads: [before, after] per dimension (negative values crop). */
const pads: AttrRule = {
  allowed: ctx => `a list of at most ${rankWords(ctx)} [before, after] pairs of integers, one per dimension`,
  accepts: (v, ctx) => Array.isArray(v) && v.length <= (rankOf(ctx) ?? Infinity) && v.every(p => isIntList(p) && p.length === 2)
};

const spatial = (names: string) => ints(2, names, 1);
const activation = oneOf('none', 'relu', 'relu6');
const optional = (rule: AttrRule): AttrSpec => ({ rule, required: false });
const required = (rule: AttrRule): AttrSpec => ({ rule, required: true });
const padding: AttrRule = ints(4, '[top, left, bottom, right]', 0);
const positivePair: AttrRule = {
  allowed: () => '[sh, sw], two finite numbers > 0',
  accepts: v => Array.isArray(v) && v.length === 2 && v.every(x => typeof x === 'number' && Number.isFinite(x) && x > 0)
};
const binary = { scalar: optional(finiteNumber), activation: optional(activation) };

/** One integer per axis of the input (slice starts and steps, tile repeats). */
const perAxisInts: AttrRule = {
  allowed: ctx => `a list of ${rankOf(ctx) === undefined ? 'rank' : rankOf(ctx)} integers, one per axis of the input`,
  accepts: (v, ctx) => isIntList(v) && (rankOf(ctx) === undefined || v.length === rankOf(ctx))
};
const intList: AttrRule = { allowed: () => 'a list of integers', accepts: isIntList };
/** expand's shape: at least the input's rank, every dim >= 0. */
const broadcastShape: AttrRule = {
  allowed: ctx => `a list of at least ${rankOf(ctx) ?? 'rank'} integers >= 0 the input broadcasts to`,
  accepts: (v, ctx) => isIntList(v) && v.every(d => d >= 0) && v.length >= (rankOf(ctx) ?? 0)
};

export const OP_ATTRS: Record<string, Record<string, AttrSpec>> = {
  conv2d: {
    stride: optional(spatial('[sh, sw]')), padding: optional(padding), dilation: optional(spatial('[dh, dw]')),
    groups: optional(int(1)), weight_layout: optional(oneOf('OIHW', 'OHWI', '1HWO')), activation: optional(activation)
  },
  linear: { activation: optional(activation) },
  matmul: {},
  add: binary,
  sub: binary,
  mul: binary,
  div: binary,
  relu: {},
  clamp: { min: optional(orNull(finiteNumber)), max: optional(orNull(finiteNumber)) },
  hardswish: {},
  hardsigmoid: {},
  sigmoid: {},
  silu: {},
  tanh: {},
  gelu: { approximate: optional(oneOf('none', 'tanh')) },
  leaky_relu: { negative_slope: optional(finiteNumber) },
  quantize_dynamic: { scheme: required(oneOf('uint8_asymmetric', 'int8_symmetric', 'int8_asymmetric')), axis: optional(axis) },
  elu: { alpha: optional(finiteNumber) },
  selu: {},
  softplus: { beta: optional(positiveNumber), threshold: optional(orNull(finiteNumber)) },
  softsign: {},
  mish: {},
  prelu: {},
  exp: {},
  erf: {},
  log: {},
  sqrt: {},
  rsqrt: {},
  pow: { exponent: required(finiteNumber) },
  abs: {},
  neg: {},
  maximum: { activation: optional(activation) },
  minimum: { activation: optional(activation) },
  pow_tensor: {},
  max_pool2d: {
    kernel: required(spatial('[kh, kw]')), stride: optional(spatial('[sh, sw]')), padding: optional(padding),
    dilation: optional(spatial('[dh, dw]')), ceil_mode: optional(bool), activation: optional(activation)
  },
  avg_pool2d: {
    kernel: required(spatial('[kh, kw]')), stride: optional(spatial('[sh, sw]')), padding: optional(padding), ceil_mode: optional(bool),
    count_include_pad: optional(bool), divisor_override: optional(orNull(int(1))), activation: optional(activation)
  },
  adaptive_avg_pool2d: { output_size: required(spatial('[oh, ow]')) },
  mean: { axes: required(axes), keepdim: optional(bool) },
  softmax: { axis: required(axis) },
  log_softmax: { axis: required(axis) },
  sum: { axes: required(axes), keepdim: optional(bool) },
  reduce_max: { axes: required(axes), keepdim: optional(bool) },
  reduce_min: { axes: required(axes), keepdim: optional(bool) },
  argmax: { axis: required(axis), keepdim: optional(bool), select_last_index: optional(bool) },
  argmin: { axis: required(axis), keepdim: optional(bool), select_last_index: optional(bool) },
  layer_norm: { axis: required(axis), eps: optional(nonNegativeNumber) },
  group_norm: { groups: required(int(1)), eps: optional(nonNegativeNumber) },
  slice: { starts: required(perAxisInts), sizes: required(perAxisInts), steps: required(perAxisInts) },
  expand: { shape: required(broadcastShape) },
  tile: { repeats: required(perAxisInts) },
  gather: { axis: required(axis), indices: required(intList) },
  take: { axis: required(axis), negative_indices: optional(bool) },
  where: {},
  batch_norm: { eps: optional(nonNegativeNumber) },
  reshape: { shape: required(reshapeShape) },
  transpose: { perm: required(perm) },
  concat: { axis: required(axis) },
  split: { axis: required(axis), sizes: required(splitSizes) },
  pad: { pads: required(pads), value: optional(finiteNumber), mode: optional(oneOf('constant', 'reflect', 'edge', 'symmetric')) },
  conv_transpose2d: {
    stride: optional(spatial('[sh, sw]')), padding: optional(padding), output_padding: optional(ints(2, '[oh, ow]', 0)),
    dilation: optional(spatial('[dh, dw]')), groups: optional(int(1)), weight_layout: optional(oneOf('IOHW', 'OHWI')),
    activation: optional(activation)
  },
  resize: {
    size: required(spatial('[oh, ow]')), mode: required(oneOf('nearest', 'bilinear')),
    coordinate_transformation: optional(oneOf('half_pixel', 'pytorch_half_pixel', 'align_corners', 'asymmetric', 'tf_half_pixel_for_nn')),
    nearest_mode: optional(oneOf('round_prefer_floor', 'round_prefer_ceil', 'floor', 'ceil')),
    scale: optional(orNull(positivePair))
  },
  quantize: {},
  dequantize: {}
};

/** The one message for an attribute that is wrong: the node, the op, the attribute, what was given, what is allowed. */
export function attrMessage(node: string, op: string, attr: string, given: unknown, allowed: string): string {
  return `node '${node}' (${op}): attribute '${attr}' is ${describeValue(given)}; allowed: ${allowed}`;
}

function describeValue(value: unknown): string {
  if (value === undefined) return 'missing';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

export interface NodeAttrs {
  name: string;
  op: string;
  attrs: Record<string, unknown>;
}

/** Everything wrong with the attributes of `node`, one message each; [] for an op outside the table (checked elsewhere). */
export function attrProblems(node: NodeAttrs, ctx: AttrContext): string[] {
  const specs = OP_ATTRS[node.op];
  if (!specs) return [];
  const problems: string[] = [];
  const attrs = node.attrs ?? {};
  for (const [name, spec] of Object.entries(specs)) {
    const value = attrs[name];
    if (value === undefined) {
      if (spec.required) problems.push(attrMessage(node.name, node.op, name, value, spec.rule.allowed(ctx)));
    } else if (!spec.rule.accepts(value, ctx)) {
      problems.push(attrMessage(node.name, node.op, name, value, spec.rule.allowed(ctx)));
    }
  }
  for (const name of Object.keys(attrs)) {
    if (!(name in specs)) {
      const known = Object.keys(specs);
      problems.push(attrMessage(node.name, node.op, name, attrs[name], `no such attribute; ${node.op} takes ${known.length ? known.join(', ') : 'no attributes'} (src/common/ops.json)`));
    }
  }
  if (node.op === 'split' && problems.length === 0) {
    const shape = ctx.inputShapes[0];
    const sizes = attrs.sizes as number[];
    const along = shape?.[attrs.axis as number];
    if (along !== undefined && sizes.reduce((a, b) => a + b, 0) !== along) {
      problems.push(attrMessage(node.name, node.op, 'sizes', sizes, `sizes that sum to ${along}, the input's size along axis ${attrs.axis as number}`));
    }
  }
  return problems;
}
