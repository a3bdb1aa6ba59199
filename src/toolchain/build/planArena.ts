import { alignUp } from './shape';

export const ARENA_ALIGNMENT = 64;

/** What the planner needs of one step of the schedule. */
export interface PlanStep {
  reads: string[];
  writes: string[];
  /** Reads whose buffer the single written tensor may take over if they die at this step. */
  inPlace: string[];
  /** The written tensor is a view of the (single) read tensor: same bytes. */
  alias?: boolean;
}

/** Where a tensor lives before planning: in the arena, or in a platform buffer. */
export interface PlanTensor {
  bytes: number;
  home: 'arena' | 'input' | 'output';
  ioIndex?: number;
}

/** A span of bytes shared by tensors that are views or in-place results of each other. */
export interface PlannedBuffer {
  id: number;
  tensors: string[];
  home: 'arena' | 'input' | 'output';
  ioIndex?: number;
  /** Bytes, rounded up to ARENA_ALIGNMENT for arena buffers. */
  size: number;
  /** First and last step at which the buffer holds a live tensor. */
  start: number;
  end: number;
  /** Byte offset in the arena (arena buffers) or in the platform buffer (always 0). */
  offset: number;
}

export interface ArenaPlan {
  buffers: PlannedBuffer[];
  bufferOf: Map<string, PlannedBuffer>;
  arenaBytes: number;
  /** max over steps of the summed (aligned) sizes of arena buffers live at that step. */
  lowerBound: number;
  /** The step at which lowerBound is reached. */
  peakStep: number;
}

/** Builds buffers from tensors: views share their source's buffer, in-place results take a dying read's. */
function assignBuffers(steps: PlanStep[], tensors: Map<string, PlanTensor>): { buffers: PlannedBuffer[]; bufferOf: Map<string, PlannedBuffer> } {
  const lastRead = new Map<string, number>();
  steps.forEach((step, s) => step.reads.forEach(t => lastRead.set(t, s)));
  const buffers: PlannedBuffer[] = [];
  let nextId = 0;
  const bufferOf = new Map<string, PlannedBuffer>();
  const info = (t: string): PlanTensor => {
    const found = tensors.get(t);
    if (!found) throw new Error(`internal: the planner has no size for tensor ${t}`);
    return found;
  };
  const newBuffer = (t: string, s: number): PlannedBuffer => {
    const { bytes, home, ioIndex } = info(t);
    const b: PlannedBuffer = {
      id: nextId++, tensors: [t], home, ...(ioIndex !== undefined ? { ioIndex } : {}),
      size: home === 'arena' ? alignUp(bytes, ARENA_ALIGNMENT) : bytes, start: s, end: s, offset: 0
    };
    buffers.push(b);
    bufferOf.set(t, b);
    return b;
  };
  const join = (t: string, b: PlannedBuffer) => {
    b.tensors.push(t);
    bufferOf.set(t, b);
  };
  const lastUse = (b: PlannedBuffer) => Math.max(...b.tensors.map(t => lastRead.get(t) ?? -1));

  for (const t of tensors.keys()) if (info(t).home !== 'arena') newBuffer(t, -1);

  // A graph output that is a view of an arena tensor: that tensor (and whatever shared its
  // bytes before it) is computed right in the output buffer.
  const moveIntoPlatformBuffer = (from: PlannedBuffer, to: PlannedBuffer, s: number) => {
    if (from.home !== 'arena' || lastUse(from) !== s || from.size !== alignUp(to.size, ARENA_ALIGNMENT)) {
      throw new Error(`internal: ${to.tensors[0]} cannot be a view of ${from.tensors[0]}`);
    }
    for (const t of from.tensors) join(t, to);
    buffers.splice(buffers.indexOf(from), 1);
  };

  steps.forEach((step, s) => {
    for (const t of step.reads) {
      if (!bufferOf.has(t)) throw new Error(`internal: step ${s} reads ${t} before any step writes it`);
    }
    for (const t of step.writes) {
      if (bufferOf.has(t)) {
        if (info(t).home === 'arena') throw new Error(`internal: tensor ${t} is written twice`);
        if (step.alias) moveIntoPlatformBuffer(bufferOf.get(step.reads[0])!, bufferOf.get(t)!, s);
        continue;
      }
      if (step.alias) {
        join(t, bufferOf.get(step.reads[0])!);
        continue;
      }
      const reuse = step.writes.length === 1
        ? step.inPlace
            .map(c => bufferOf.get(c)!)
            .find(b =>
              b.home === 'arena' && b.size === alignUp(info(t).bytes, ARENA_ALIGNMENT) && lastUse(b) === s &&
              // no other read of this step may share the bytes being overwritten
              step.reads.every(r => bufferOf.get(r) !== b || step.inPlace.includes(r)))
        : undefined;
      if (reuse) join(t, reuse);
      else newBuffer(t, s);
    }
  });
  for (const b of buffers) {
    if (b.home !== 'arena') continue;
    b.end = Math.max(b.start, lastUse(b));
  }
  return { buffers, bufferOf };
}

function overlapsInTime(a: PlannedBuffer, b: PlannedBuffer): boolean {
  return a.start <= b.end && b.start <= a.end;
}

/**
 * The placed buffers that are live at the same time as a given one. Short-lived buffers (most of
 * them) are found by their start step; the few long-lived ones are scanned: placement stays near
 * linear on graphs of tens of thousands of buffers.
 */
class PlacedByTime {
  private static readonly SHORT = 64;
  private readonly byStart = new Map<number, PlannedBuffer[]>();
  private readonly longLived: PlannedBuffer[] = [];
  private readonly all: PlannedBuffer[] = [];

  add(b: PlannedBuffer): void {
    this.all.push(b);
    if (b.end - b.start > PlacedByTime.SHORT) {
      this.longLived.push(b);
      return;
    }
    const list = this.byStart.get(b.start);
    if (list) list.push(b);
    else this.byStart.set(b.start, [b]);
  }

  liveWith(b: PlannedBuffer): PlannedBuffer[] {
    if (b.end - b.start > PlacedByTime.SHORT) return this.all.filter(p => overlapsInTime(p, b));
    const found = this.longLived.filter(p => overlapsInTime(p, b));
    for (let s = b.start - PlacedByTime.SHORT; s <= b.end; s++) {
      for (const p of this.byStart.get(s) ?? []) if (overlapsInTime(p, b)) found.push(p);
    }
    return found;
  }
}

/**
 * Offsets for buffers placed one by one in ORDER, each in the smallest gap among the buffers it
 * is live with. With `fromTop`, the gap's top end is used, and the space below the arena's
 * current height counts as a gap too: a chain of equal layers then alternates between two slots
 * instead of drifting upwards after an odd-sized layer between them.
 */
function placeInOrder(order: PlannedBuffer[], fromTop: boolean): { offsets: Map<PlannedBuffer, number>; bytes: number } {
  const offsets = new Map<PlannedBuffer, number>();
  const placed = new PlacedByTime();
  let bytes = 0;
  for (const b of order) {
    const neighbours = placed
      .liveWith(b)
      .map(p => ({ p, offset: offsets.get(p)! }))
      .sort((x, y) => x.offset - y.offset || x.p.id - y.p.id);
    let best: number | undefined;
    let bestGap = Infinity;
    let cursor = 0;
    const consider = (gapStart: number, gapEnd: number) => {
      const gap = gapEnd - gapStart;
      if (gap >= b.size && gap < bestGap) {
        best = fromTop ? gapEnd - b.size : gapStart;
        bestGap = gap;
      }
    };
    for (const { p, offset: at } of neighbours) {
      consider(cursor, at);
      cursor = Math.max(cursor, at + p.size);
    }
    if (fromTop) consider(cursor, bytes);
    const offset = best ?? cursor;
    offsets.set(b, offset);
    bytes = Math.max(bytes, offset + b.size);
    placed.add(b);
  }
  return { offsets, bytes };
}

/**
 * The orders the planner tries. Largest first is TFLite Micro's greedy order and usually best;
 * a chain of layers whose sizes shrink and grow again (MobileNet's first blocks) packs tighter
 * in the order of the schedule, and long-lived buffers first helps graphs with skip connections.
 */
const PLACEMENT_ORDERS: ((a: PlannedBuffer, b: PlannedBuffer) => number)[] = [
  (a, b) => b.size - a.size || a.start - b.start || a.id - b.id,
  (a, b) => a.start - b.start || b.size - a.size || a.id - b.id,
  (a, b) => (b.end - b.start) - (a.end - a.start) || b.size - a.size || a.id - b.id,
  (a, b) => b.size * (b.end - b.start + 1) - a.size * (a.end - a.start + 1) || a.id - b.id
];

/**
 * Static arena plan: liveness over the schedule, then greedy placement with best fit. Buffers
 * are placed one at a time, each in the smallest gap between buffers it is live with (or above
 * them all), at the gap's bottom or top; the plan keeps the smallest of a few placement orders
 * and the two ends. Every offset is a multiple
 * of ARENA_ALIGNMENT. Graph inputs and outputs live in platform buffers, not in the arena.
 */
export function planArena(steps: PlanStep[], tensors: Map<string, PlanTensor>): ArenaPlan {
  const { buffers, bufferOf } = assignBuffers(steps, tensors);
  const arena = buffers.filter(b => b.home === 'arena' && b.size > 0);
  let best: { offsets: Map<PlannedBuffer, number>; bytes: number } | undefined;
  for (const compare of PLACEMENT_ORDERS) {
    const order = [...arena].sort(compare);
    for (const fromTop of [false, true]) {
      const tried = placeInOrder(order, fromTop);
      if (!best || tried.bytes < best.bytes) best = tried;
    }
  }
  for (const b of arena) b.offset = best!.offsets.get(b)!;
  const arenaBytes = best?.bytes ?? 0;
  const { bytes: lowerBound, step: peakStep } = liveBytesPeak(arena, steps.length);
  return { buffers, bufferOf, arenaBytes, lowerBound, peakStep };
}

/** The largest sum of sizes of buffers live at one step: no plan can use less. */
export function liveBytesPeak(buffers: PlannedBuffer[], stepCount: number): { bytes: number; step: number } {
  const delta = new Array<number>(stepCount + 1).fill(0);
  for (const b of buffers) {
    delta[b.start] += b.size;
    delta[b.end + 1] -= b.size;
  }
  let live = 0;
  let peak = { bytes: 0, step: 0 };
  for (let s = 0; s < stepCount; s++) {
    live += delta[s];
    if (live > peak.bytes) peak = { bytes: live, step: s };
  }
  return peak;
}

/** Pairs of arena buffers that are live at the same step and share bytes; empty for a valid plan. */
export function findOverlaps(plan: ArenaPlan): [PlannedBuffer, PlannedBuffer][] {
  const arena = plan.buffers.filter(b => b.home === 'arena' && b.size > 0);
  const clashes: [PlannedBuffer, PlannedBuffer][] = [];
  for (let i = 0; i < arena.length; i++) {
    for (let j = i + 1; j < arena.length; j++) {
      const a = arena[i];
      const b = arena[j];
      if (overlapsInTime(a, b) && a.offset < b.offset + b.size && b.offset < a.offset + a.size) clashes.push([a, b]);
    }
  }
  return clashes;
}
