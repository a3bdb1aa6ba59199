import { findOverlaps, planArena, PlanStep, PlanTensor } from '../../../src/toolchain/build/planArena';
import { rng } from './helpers/graphBuilder';

const arena = (bytes: number): PlanTensor => ({ bytes, home: 'arena' });
const step = (reads: string[], writes: string[], inPlace: string[] = [], alias = false): PlanStep => ({ reads, writes, inPlace, alias });

function tensors(entries: Record<string, PlanTensor>): Map<string, PlanTensor> {
  return new Map(Object.entries(entries));
}

describe('planArena on hand-made schedules', () => {
  test('a chain needs two buffers at a time, and the plan meets the lower bound', () => {
    const t = tensors({ in: { bytes: 4096, home: 'input', ioIndex: 0 }, a: arena(4096), b: arena(4096), c: arena(1000), out: { bytes: 40, home: 'output', ioIndex: 0 } });
    const plan = planArena([step(['in'], ['a']), step(['a'], ['b']), step(['b'], ['c']), step(['c'], ['out'])], t);
    expect(plan.lowerBound).toBe(8192);
    expect(plan.arenaBytes).toBe(8192);
    expect(plan.bufferOf.get('a')!.offset).not.toBe(plan.bufferOf.get('b')!.offset);
    expect(findOverlaps(plan)).toEqual([]);
  });

  test('a chain that shrinks and grows again meets its bound, where placing the largest first would not', () => {
    // VWW's first layers: largest-first puts d at 0 and a above it, then c cannot go under a.
    const t = tensors({ in: { bytes: 64, home: 'input', ioIndex: 0 }, a: arena(27648), b: arena(18432), c: arena(18432), d: arena(36864), out: { bytes: 64, home: 'output', ioIndex: 0 } });
    const plan = planArena([step(['in'], ['a']), step(['a'], ['b']), step(['b'], ['c']), step(['c'], ['d']), step(['d'], ['out'])], t);
    expect(plan.lowerBound).toBe(18432 + 36864);
    expect(plan.arenaBytes).toBe(plan.lowerBound);
    expect(findOverlaps(plan)).toEqual([]);
  });

  test('a chain of equal layers with one small layer between them keeps to two slots', () => {
    // the MLPerf Tiny autoencoder: 512 B layers alternate between two slots; a 64 B layer in the
    // middle must not push the next ones above them
    const sizes = [512, 512, 512, 512, 64, 512, 512, 512, 512];
    const entries: Record<string, PlanTensor> = { in: { bytes: 64, home: 'input', ioIndex: 0 }, out: { bytes: 64, home: 'output', ioIndex: 0 } };
    sizes.forEach((bytes, i) => { entries[`t${i}`] = arena(bytes); });
    const steps = sizes.map((_, i) => step([i ? `t${i - 1}` : 'in'], [`t${i}`]));
    steps.push(step([`t${sizes.length - 1}`], ['out']));
    const plan = planArena(steps, tensors(entries));
    expect(plan.lowerBound).toBe(1024);
    expect(plan.arenaBytes).toBe(1024);
    expect(findOverlaps(plan)).toEqual([]);
  });

  test('a long unrolled schedule with skip connections gets a valid plan near its bound', () => {
    const entries: Record<string, PlanTensor> = { x: { bytes: 64, home: 'input', ioIndex: 0 } };
    const steps: PlanStep[] = [];
    const n = 4000;
    for (let i = 0; i < n; i++) {
      const reads = [i ? `t${i - 1}` : 'x'];
      if (i > 5) reads.push(`t${i - 5}`);
      if (i > 200 && i % 97 === 0) reads.push(`t${i - 150}`);
      steps.push(step(reads, [`t${i}`]));
      entries[`t${i}`] = arena(64 * (1 + ((i * 7919) % 50)));
    }
    const plan = planArena(steps, tensors(entries));
    expect(findOverlaps(plan)).toEqual([]);
    expect(plan.arenaBytes).toBeLessThanOrEqual(1.25 * plan.lowerBound);
  });

  test('graph inputs and outputs live in platform buffers, outside the arena', () => {
    const t = tensors({ in: { bytes: 640, home: 'input', ioIndex: 0 }, out: { bytes: 640, home: 'output', ioIndex: 0 } });
    const plan = planArena([step(['in'], ['out'])], t);
    expect(plan.arenaBytes).toBe(0);
    expect(plan.bufferOf.get('in')!.home).toBe('input');
    expect(plan.bufferOf.get('out')!.home).toBe('output');
  });

  test('sizes are rounded up to 64 bytes and every offset is 64-byte aligned', () => {
    const t = tensors({ a: arena(10), b: arena(70), c: arena(130) });
    const plan = planArena([step([], ['a']), step(['a'], ['b']), step(['a', 'b'], ['c'])], t);
    expect(plan.lowerBound).toBe(64 + 128 + 192);
    for (const b of plan.buffers) expect(b.offset % 64).toBe(0);
    expect(findOverlaps(plan)).toEqual([]);
  });

  test('an in-place step takes over the buffer of an input that dies there', () => {
    const t = tensors({ a: arena(256), b: arena(256), c: arena(256) });
    const plan = planArena([step([], ['a']), step(['a'], ['b'], ['a']), step(['b'], ['c'], ['b'])], t);
    expect(plan.bufferOf.get('b')).toBe(plan.bufferOf.get('a'));
    expect(plan.bufferOf.get('c')).toBe(plan.bufferOf.get('a'));
    expect(plan.arenaBytes).toBe(256);
  });

  test('no in-place when the input is read later, or has another size', () => {
    const t = tensors({ a: arena(256), b: arena(256), c: arena(512), d: arena(64) });
    const plan = planArena([
      step([], ['a']),
      step(['a'], ['b'], ['a']),
      step(['b'], ['c'], ['b']),
      step(['a', 'c'], ['d'])
    ], t);
    expect(plan.bufferOf.get('b')).not.toBe(plan.bufferOf.get('a'));
    expect(plan.bufferOf.get('c')).not.toBe(plan.bufferOf.get('b'));
    expect(findOverlaps(plan)).toEqual([]);
  });

  test('never in place into a platform buffer', () => {
    const t = tensors({ in: { bytes: 256, home: 'input', ioIndex: 0 }, a: arena(256) });
    const plan = planArena([step(['in'], ['a'], ['in'])], t);
    expect(plan.bufferOf.get('a')!.home).toBe('arena');
  });

  test('a view shares its source buffer, and keeps it alive as long as the view is read', () => {
    const t = tensors({ a: arena(256), v: arena(256), b: arena(256), c: arena(256) });
    const plan = planArena([step([], ['a']), step(['a'], ['v'], [], true), step([], ['b']), step(['v', 'b'], ['c'])], t);
    const shared = plan.bufferOf.get('a')!;
    expect(plan.bufferOf.get('v')).toBe(shared);
    expect(shared.end).toBe(3);
    expect(findOverlaps(plan)).toEqual([]);
    expect(plan.lowerBound).toBe(768);
  });

  test('best fit: a small tensor goes into the smallest gap that holds it', () => {
    // big1 and big2 are live together early; `small` fits in big1's slot once big1 dies.
    const t = tensors({ big1: arena(1024), big2: arena(1024), mid: arena(512), small: arena(256) });
    const plan = planArena([
      step([], ['big1']),
      step([], ['big2']),
      step(['big1', 'big2'], ['mid']),
      step(['mid', 'big2'], ['small']),
      step(['small'], [])
    ], t);
    expect(findOverlaps(plan)).toEqual([]);
    expect(plan.arenaBytes).toBe(plan.lowerBound);
  });
});

describe('planArena properties on random schedules', () => {
  test('no two tensors live at the same step share a byte, and the arena is at least the lower bound', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const r = rng(seed);
      const n = 5 + Math.floor(Math.abs(r()) * 40);
      const sizes: Record<string, PlanTensor> = {};
      const steps: PlanStep[] = [];
      for (let i = 0; i < n; i++) {
        const name = `t${i}`;
        sizes[name] = arena(1 + Math.floor(Math.abs(r()) * 5000));
        const reads: string[] = [];
        for (let k = 0; k < 3 && i > 0; k++) {
          const j = i - 1 - Math.floor(Math.abs(r()) * Math.min(i, 6));
          if (!reads.includes(`t${j}`)) reads.push(`t${j}`);
        }
        const inPlace = reads.filter(() => r() > 0);
        if (inPlace.length > 0 && r() > 0) sizes[name] = { ...sizes[inPlace[0]] };
        const alias = i > 0 && r() > 0.8;
        if (alias) sizes[name] = { ...sizes[reads[0]] };
        steps.push(step(alias ? [reads[0]] : reads, [name], alias ? [] : inPlace, alias));
      }
      const plan = planArena(steps, tensors(sizes));
      expect(findOverlaps(plan)).toEqual([]);
      expect(plan.arenaBytes).toBeGreaterThanOrEqual(plan.lowerBound);
      for (const b of plan.buffers) expect(b.offset % 64).toBe(0);
    }
  });

  test('findOverlaps does catch a bad plan', () => {
    const plan = planArena([step([], ['a']), step([], ['b']), step(['a', 'b'], [])], tensors({ a: arena(64), b: arena(64) }));
    plan.bufferOf.get('b')!.offset = plan.bufferOf.get('a')!.offset;
    expect(findOverlaps(plan)).toHaveLength(1);
  });
});
