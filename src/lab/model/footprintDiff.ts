/** Two builds side by side: per-source and per-total byte deltas. Pure, no DOM. */
import type { Footprint } from '../../common/types';
import { buildSideTree, bytesByFamily, bytesBySource, Side } from '../../common/report/footprintTree';

export interface DeltaRow {
  name: string;
  before: number;
  after: number;
  delta: number;
}

export interface FootprintDiff {
  /** Labels of the two builds, e.g. "mobilenet_v2 · qemu-virt". */
  before: string;
  after: string;
  side: Side;
  /** The measured totals, in a fixed order. */
  totals: DeltaRow[];
  /** One row per source family (weights, kernels, platform, libc…), biggest change first. */
  families: DeltaRow[];
  /** One row per source present in either build, biggest change first. */
  sources: DeltaRow[];
  /** One row per kernel present in either build, biggest change first. */
  kernels: DeltaRow[];
}

export function footprintLabel(footprint: Footprint): string {
  return `${footprint.model} · ${footprint.target} · ${footprint.dtype}`;
}

const TOTALS: { key: keyof Footprint['totals']; label: string }[] = [
  { key: 'image_bytes', label: 'image file' },
  { key: 'weights_bytes', label: 'weights' },
  { key: 'overhead_bytes', label: 'image − weights' },
  { key: 'flash_bytes', label: 'flash' },
  { key: 'peak_ram_bytes', label: 'peak RAM' }
];

/** `before` is the build compared against; deltas are after − before. */
export function diffFootprints(before: Footprint, after: Footprint, side: Side): FootprintDiff {
  const totals = TOTALS.map(({ key, label }) =>
    row(label, before.totals[key]?.value ?? 0, after.totals[key]?.value ?? 0)
  );
  const treeBefore = buildSideTree(before, side);
  const treeAfter = buildSideTree(after, side);
  const sourcesBefore = new Map(bytesBySource(treeBefore).map(entry => [entry.source, entry.bytes]));
  const sourcesAfter = new Map(bytesBySource(treeAfter).map(entry => [entry.source, entry.bytes]));
  const familiesBefore = new Map<string, number>(bytesByFamily(treeBefore).map(entry => [entry.family, entry.bytes]));
  const familiesAfter = new Map<string, number>(bytesByFamily(treeAfter).map(entry => [entry.family, entry.bytes]));
  const kernelsBefore = new Map(before.kernels.map(kernel => [kernel.name, kernel.bytes]));
  const kernelsAfter = new Map(after.kernels.map(kernel => [kernel.name, kernel.bytes]));
  return {
    before: footprintLabel(before),
    after: footprintLabel(after),
    side,
    totals,
    families: deltaRows(familiesBefore, familiesAfter),
    sources: deltaRows(sourcesBefore, sourcesAfter),
    kernels: deltaRows(kernelsBefore, kernelsAfter)
  };
}

function row(name: string, before: number, after: number): DeltaRow {
  return { name, before, after, delta: after - before };
}

function deltaRows(before: Map<string, number>, after: Map<string, number>): DeltaRow[] {
  const names = new Set([...before.keys(), ...after.keys()]);
  return [...names]
    .map(name => row(name, before.get(name) ?? 0, after.get(name) ?? 0))
    .sort(
      (a, b) =>
        Math.abs(b.delta) - Math.abs(a.delta) ||
        Math.max(b.before, b.after) - Math.max(a.before, a.after) ||
        a.name.localeCompare(b.name)
    );
}

/** Sum of the rows' deltas; for the sources of one side it equals the side's total change. */
export function netDelta(rows: readonly DeltaRow[]): number {
  return rows.reduce((sum, entry) => sum + entry.delta, 0);
}

/** Changed rows, and what the unchanged ones add up to (for a compact table). */
export function splitUnchanged(rows: readonly DeltaRow[]): { changed: DeltaRow[]; unchanged: number; unchangedBytes: number } {
  const changed = rows.filter(entry => entry.delta !== 0);
  const unchanged = rows.filter(entry => entry.delta === 0);
  return { changed, unchanged: unchanged.length, unchangedBytes: unchanged.reduce((sum, entry) => sum + entry.after, 0) };
}
