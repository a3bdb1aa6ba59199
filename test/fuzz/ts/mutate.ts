/**
 * Seeded mutations for the TypeScript fuzz targets: byte-level (bit flips, interesting
 * bytes, truncation, deleted and repeated ranges, splices of another input) and
 * structure-aware ones that change one place of a JSON document or of a safetensors header,
 * so that inputs get past JSON.parse and reach the checks behind it.
 */

/** mulberry32: small, fast and reproducible from one 32-bit seed. */
export class Random {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  below(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.below(items.length)];
  }
}

const INTERESTING_BYTES = [0x00, 0x01, 0x7f, 0x80, 0xff, 0x22, 0x5c, 0x5b, 0x5d, 0x7b, 0x7d, 0x2c, 0x3a, 0x2d, 0x30, 0x39, 0x65];

export function mutateBytes(input: Buffer, rng: Random, others: readonly Buffer[]): Buffer {
  let bytes = Buffer.from(input);
  const rounds = 1 + rng.below(4);
  for (let i = 0; i < rounds; i++) {
    const at = bytes.length === 0 ? 0 : rng.below(bytes.length);
    switch (rng.below(7)) {
      case 0:
        if (bytes.length) bytes[at] ^= 1 << rng.below(8);
        break;
      case 1:
        if (bytes.length) bytes[at] = rng.pick(INTERESTING_BYTES);
        break;
      case 2:
        bytes = bytes.subarray(0, at);
        break;
      case 3:
        bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(Math.min(bytes.length, at + 1 + rng.below(64)))]);
        break;
      case 4: {
        const chunk = bytes.subarray(at, at + 1 + rng.below(64));
        bytes = Buffer.concat([bytes.subarray(0, at), chunk, chunk, bytes.subarray(at + chunk.length)]);
        break;
      }
      case 5: {
        const other = rng.pick(others);
        const from = rng.below(other.length + 1);
        bytes = Buffer.concat([bytes.subarray(0, at), other.subarray(from, from + 1 + rng.below(256))]);
        break;
      }
      default:
        if (bytes.length >= 8) bytes.writeUInt32LE(rng.pick([0, 1, 0x7fffffff, 0x80000000, 0xffffffff]), Math.min(at, bytes.length - 4));
    }
  }
  return bytes;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const INTERESTING_VALUES: Json[] = [
  0, 1, -1, 2, 0.5, 1.5, -0.0, 2 ** 31, 2 ** 53, 2 ** 53 + 2, 2 ** 64, -(2 ** 63), 1e308, 5e-324, '', 'x', '__metadata__', 'a'.repeat(300),
  'constructor', '__proto__', 'toString', null, true, false, [], {}, [0], [-1], [1, 2, 3, 4], { a: 1 }
];

/** Every (container, key) in a document, depth first. */
function slots(doc: Json): [Json[] | { [key: string]: Json }, string | number][] {
  const found: [Json[] | { [key: string]: Json }, string | number][] = [];
  const stack: Json[] = [doc];
  while (stack.length) {
    const node = stack.pop();
    if (Array.isArray(node)) node.forEach((v, i) => { found.push([node, i]); if (v && typeof v === 'object') stack.push(v); });
    else if (node && typeof node === 'object') for (const [k, v] of Object.entries(node)) { found.push([node, k]); if (v && typeof v === 'object') stack.push(v); }
  }
  return found;
}

export function mutateJson(doc: Json, rng: Random): Json {
  const rounds = rng.pick([1, 1, 1, 2, 3]);
  for (let i = 0; i < rounds; i++) {
    const all = slots(doc);
    if (all.length === 0) return rng.pick(INTERESTING_VALUES);
    const [container, key] = rng.pick(all);
    const set = (value: Json) => { (container as Record<string | number, Json>)[key] = value; };
    const value = (container as Record<string | number, Json>)[key];
    switch (rng.below(8)) {
      case 0:
        set(structuredClone(rng.pick(INTERESTING_VALUES)));
        break;
      case 1:
        if (typeof value === 'number') set(value + rng.pick([-1, 1, -value - 1, value, 2 ** 32, 0.5]));
        break;
      case 2:
        if (Array.isArray(container)) container.splice(key as number, 1);
        else delete container[key as string];
        break;
      case 3:
        if (Array.isArray(container)) container.splice(rng.below(container.length + 1), 0, structuredClone(value));
        break;
      case 4: {
        const [other, otherKey] = rng.pick(all);
        set(structuredClone((other as Record<string | number, Json>)[otherKey]));
        break;
      }
      case 5:
        if (!Array.isArray(container)) container[rng.pick(['x', '__metadata__', '__proto__', 'constructor', 'shape', 'axis', `${key}_`])] = structuredClone(value);
        break;
      case 6:
        set(rng.below(2) ? [value] : { v: value });
        break;
      default:
        if (typeof value === 'string') set(value.slice(0, rng.below(value.length + 1)) + rng.pick(['', '0', '/', '"', '\\', 'é', '\u0000']));
        else set(structuredClone(rng.pick(INTERESTING_VALUES)));
    }
  }
  return doc;
}

export function mutateJsonText(input: Buffer, rng: Random): Buffer | undefined {
  try {
    const doc: Json = JSON.parse(input.toString('utf8'));
    return Buffer.from(JSON.stringify(mutateJson(doc, rng), null, rng.below(2) ? 1 : undefined));
  } catch {
    return undefined; // not JSON, or too deep to stringify: the byte mutations take over
  }
}

/** Change the JSON header of a safetensors file, keep its data; usually with a length prefix that fits. */
export function mutateSafetensorsHeader(input: Buffer, rng: Random): Buffer | undefined {
  if (input.length < 8) return undefined;
  const length = Number(input.readBigUInt64LE(0));
  if (length > input.length - 8) return undefined;
  const header = mutateJsonText(input.subarray(8, 8 + length), rng);
  if (!header) return undefined;
  const prefix = Buffer.alloc(8);
  const declared = rng.below(10) ? BigInt(header.length) : rng.pick([0n, BigInt(header.length + 1), BigInt(Math.max(header.length - 1, 0)), 2n ** 63n]);
  prefix.writeBigUInt64LE(declared);
  return Buffer.concat([prefix, header, input.subarray(8 + length)]);
}
