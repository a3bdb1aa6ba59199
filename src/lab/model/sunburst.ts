/**
 * Sunburst geometry shared by the interactive view and the static SVG: a d3 partition of a
 * footprint side, angles in radians, rings in units of one level. Pure, no DOM.
 */
import { hierarchy, HierarchyRectangularNode, partition } from 'd3-hierarchy';
import type { FootprintItem } from './footprintTree';

export type SunburstNode = HierarchyRectangularNode<FootprintItem>;

/** Rings shown at once around the focus (deeper levels appear when zooming in). */
export const VISIBLE_RINGS = 3;

export function partitionSide(root: FootprintItem): SunburstNode {
  const tree = hierarchy(root, item => item.children)
    .sum(item => (item.children.length === 0 ? item.bytes : 0))
    .sort((a, b) => (b.value ?? 0) - (a.value ?? 0) || a.data.name.localeCompare(b.data.name));
  return partition<FootprintItem>().size([2 * Math.PI, tree.height + 1])(tree);
}

export interface ArcBox {
  x0: number;
  x1: number;
  y0: number;
  y1: number;
}

/** Where each node sits when `focus` fills the circle (the zoom of the interactive view). */
export function zoomedBox(node: SunburstNode, focus: SunburstNode): ArcBox {
  const span = focus.x1 - focus.x0 || 1;
  const clamp = (x: number): number => Math.max(0, Math.min(1, (x - focus.x0) / span)) * 2 * Math.PI;
  return {
    x0: clamp(node.x0),
    x1: clamp(node.x1),
    y0: Math.max(0, node.y0 - focus.depth),
    y1: Math.max(0, node.y1 - focus.depth)
  };
}

/** An arc is drawn when it lies in the visible rings and is wider than a hairline. */
export function arcVisible(box: ArcBox, minAngle = 0.002): boolean {
  return box.y1 <= VISIBLE_RINGS + 1 && box.y0 >= 1 && box.x1 - box.x0 > minAngle;
}

/** Average width of a label character at the chart's font size, in pixels. */
const CHAR_PX = 5.6;
const LINE_PX = 11;

export interface LabelPlacement {
  /** Along the arc (wide arcs) or across the ring, along the radius (narrow arcs). */
  along: 'arc' | 'radius';
  /** Characters that fit. */
  chars: number;
  transform: string;
}

/**
 * Where a label goes: along a wide arc (more room), else along the radius; null when
 * neither leaves room for three characters.
 */
export function placeLabel(box: ArcBox, ringWidth: number): LabelPlacement | null {
  if (!arcVisible(box)) {
    return null;
  }
  const midRadius = ((box.y0 + box.y1) / 2) * ringWidth;
  const arcLength = (box.x1 - box.x0) * midRadius;
  const angle = (((box.x0 + box.x1) / 2) * 180) / Math.PI;
  const ring = (box.y1 - box.y0) * ringWidth;
  if (arcLength > ring && ring >= LINE_PX + 2) {
    const flip = angle > 90 && angle < 270 ? ' rotate(180)' : '';
    return {
      along: 'arc',
      chars: Math.floor((arcLength - 8) / CHAR_PX),
      transform: `rotate(${angle.toFixed(2)}) translate(0,${(-midRadius).toFixed(2)})${flip}`
    };
  }
  if (arcLength >= LINE_PX) {
    return {
      along: 'radius',
      chars: Math.floor((ring - 6) / CHAR_PX),
      transform: `rotate(${(angle - 90).toFixed(2)}) translate(${midRadius.toFixed(2)},0) rotate(${angle < 180 ? 0 : 180})`
    };
  }
  return null;
}

/**
 * A short label for an item: without its parent's name when it repeats it
 * ("features.3" › "features.3.conv.1" shows "conv.1"). Too long, an identifier is cut from
 * the front, because the end of a module path is what tells siblings apart; a phrase
 * (it has spaces, like "platform (boot, I/O)") is cut at the end, where it reads naturally.
 */
export function shortLabel(name: string, parentName: string | null, chars: number): string {
  let label = name;
  if (parentName && name.length > parentName.length + 1 && name.startsWith(parentName) && /[._/:]/.test(name[parentName.length])) {
    label = name.slice(parentName.length + 1);
  }
  if (label.length <= chars) {
    return label;
  }
  if (chars < 3) {
    return '';
  }
  return label.includes(' ') ? label.slice(0, chars - 1).trimEnd() + '…' : '…' + label.slice(label.length - (chars - 1));
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

/** The ids on the way from the root to `node`, for breadcrumbs. */
export function nodeChain(node: SunburstNode): SunburstNode[] {
  return node.ancestors().reverse();
}
