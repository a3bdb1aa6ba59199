/**
 * Sunburst geometry shared by the interactive view and the static SVG: a d3 partition of a
 * footprint side, angles in radians, rings in units of one level. Pure, no DOM.
 */
import { hierarchy, HierarchyRectangularNode, partition } from 'd3-hierarchy';
import type { FootprintItem } from '../../common/report/footprintTree';

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

// the path of one sector is the static report's too
export { annularSectorPath } from '../../common/report/arcs';

/** The ids on the way from the root to `node`, for breadcrumbs. */
export function nodeChain(node: SunburstNode): SunburstNode[] {
  return node.ancestors().reverse();
}
