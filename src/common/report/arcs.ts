/**
 * Sunburst geometry without d3 (the toolchain runs it in Node, where d3's ES modules do not
 * load): the partition d3-hierarchy's `partition().size([2π, height + 1])` computes, children
 * sorted by bytes then name, and the SVG path of one ring sector. Pure, no DOM.
 */
import type { FootprintItem } from './footprintTree';

export interface RingSector {
  item: FootprintItem;
  depth: number;
  /** Angles in radians, clockwise from 12 o'clock. */
  x0: number;
  x1: number;
  /** Rings, in units of one level (the root is ring 0 to 1). */
  y0: number;
  y1: number;
}

export interface Rings {
  /** Levels below the root. */
  height: number;
  /** Every item, level by level. */
  sectors: RingSector[];
}

interface Sized {
  item: FootprintItem;
  value: number;
  height: number;
  children: Sized[];
}

function sized(item: FootprintItem): Sized {
  const children = item.children.map(sized).sort((a, b) => b.value - a.value || a.item.name.localeCompare(b.item.name));
  return {
    item,
    value: children.length === 0 ? item.bytes : children.reduce((sum, c) => sum + c.value, 0),
    height: children.reduce((h, c) => Math.max(h, c.height + 1), 0),
    children
  };
}

/** Lays out `root` on a full circle, each level one ring wide. */
export function partitionRings(root: FootprintItem): Rings {
  const tree = sized(root);
  const sectors: RingSector[] = [];
  const place = (node: Sized, depth: number, x0: number, x1: number): void => {
    sectors.push({ item: node.item, depth, x0, x1, y0: depth, y1: depth + 1 });
    const k = node.value && (x1 - x0) / node.value;
    let x = x0;
    for (const child of node.children) {
      const start = x;
      x += child.value * k;
      place(child, depth + 1, start, x);
    }
  };
  place(tree, 0, 0, 2 * Math.PI);
  // level by level, as d3's descendants() lists them (a stable sort keeps each level's order)
  return { height: tree.height, sectors: sectors.sort((a, b) => a.depth - b.depth) };
}

const FULL_CIRCLE = 2 * Math.PI - 1e-6;

function point(radius: number, angle: number): string {
  return `${(radius * Math.sin(angle)).toFixed(2)},${(-radius * Math.cos(angle)).toFixed(2)}`;
}

/**
 * SVG path of an annular sector (angles clockwise from 12 o'clock, as d3's partition lays
 * them out), with `padAngle` radians of gap split between both sides when the arc is wide
 * enough to keep one.
 */
export function annularSectorPath(
  startAngle: number,
  endAngle: number,
  innerRadius: number,
  outerRadius: number,
  padAngle = 0
): string {
  let a0 = startAngle;
  let a1 = endAngle;
  if (a1 - a0 < FULL_CIRCLE && a1 - a0 > 2 * padAngle) {
    a0 += padAngle / 2;
    a1 -= padAngle / 2;
  }
  const r0 = Math.max(0, innerRadius);
  const r1 = Math.max(r0, outerRadius);
  if (a1 - a0 >= FULL_CIRCLE) {
    // a full ring: two half arcs on each circle, the inner one drawn backwards
    const outer = `M${point(r1, 0)}A${r1},${r1} 0 1 1 ${point(r1, Math.PI)}A${r1},${r1} 0 1 1 ${point(r1, 0)}Z`;
    return r0 > 0
      ? `${outer}M${point(r0, 0)}A${r0},${r0} 0 1 0 ${point(r0, Math.PI)}A${r0},${r0} 0 1 0 ${point(r0, 0)}Z`
      : outer;
  }
  const large = a1 - a0 > Math.PI ? 1 : 0;
  const outerArc = `M${point(r1, a0)}A${r1},${r1} 0 ${large} 1 ${point(r1, a1)}`;
  if (r0 === 0) {
    return `${outerArc}L0,0Z`;
  }
  return `${outerArc}L${point(r0, a1)}A${r0},${r0} 0 ${large} 0 ${point(r0, a0)}Z`;
}
