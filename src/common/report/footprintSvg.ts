/**
 * A static SVG of a footprint (flash and RAM sunbursts, legend), for saved notebooks opened
 * without the extension and for the offline report. Pure: d3-hierarchy lays it out, paths
 * are written as strings, no DOM.
 */
import type { Footprint } from '../types';
import { buildSideTree, bytesByFamily, Family, FootprintItem, Side, SIDE_LABELS } from './footprintTree';
import { escapeXml, formatBytes, formatShare } from './format';
import { annularSectorPath, partitionRings } from './arcs';

/** Fixed colours per source family: the static image has no theme to read variables from. */
export const FAMILY_COLORS: Record<Family, string> = {
  weights: '#1e88e5',
  kernels: '#fb8c00',
  model: '#43a047',
  platform: '#00acc1',
  libc: '#ec407a',
  libm: '#ab47bc',
  libgcc: '#afb42b',
  elf: '#757575',
  other: '#bdbdbd'
};

const RADIUS = 120;
const MAX_RINGS = 4;
/** Radius of the hole in the middle, which holds the total. */
const HOLE = 44;
const PANEL_WIDTH = 300;
const TOP = 44;

export function familyColor(family: Family): string {
  return FAMILY_COLORS[family] ?? FAMILY_COLORS.other;
}

function sunburstPaths(root: FootprintItem, total: number): string {
  const tree = partitionRings(root);
  const levels = Math.min(MAX_RINGS, tree.height);
  const ring = (RADIUS - HOLE) / Math.max(1, levels);
  const radius = (y: number): number => HOLE + (y - 1) * ring;
  const parts: string[] = [];
  for (const node of tree.sectors) {
    if (node.depth === 0 || node.depth > levels || node.x1 - node.x0 < 0.003) {
      continue;
    }
    const item = node.item;
    const opacity = Math.max(0.45, 1 - (node.depth - 1) * 0.18).toFixed(2);
    const title = `${item.path.join(' › ')}\n${formatBytes(item.bytes)} (${formatShare(item.bytes, total)})` +
      (item.source ? `\nsource: ${item.source}` : '') + (item.kind ? `\nkind: ${item.kind}` : '');
    parts.push(
      `<path d="${annularSectorPath(node.x0, node.x1, radius(node.y0), radius(node.y1) - 1, 0.004)}" fill="${familyColor(item.family)}" fill-opacity="${opacity}" ` +
        `stroke="#ffffff" stroke-width="0.5"><title>${escapeXml(title)}</title></path>`
    );
  }
  return parts.join('');
}

function sidePanel(footprint: Footprint, side: Side, x: number): string {
  const root = buildSideTree(footprint, side);
  const centerX = x + PANEL_WIDTH / 2;
  const centerY = TOP + RADIUS + 8;
  const heading =
    `<text x="${centerX}" y="22" text-anchor="middle" font-size="14" font-weight="600" fill="#333">` +
    `${escapeXml(SIDE_LABELS[side])}</text>`;
  if (root.bytes === 0) {
    return (
      heading +
      `<text x="${centerX}" y="${centerY}" text-anchor="middle" font-size="12" fill="#777">no bytes</text>`
    );
  }
  return (
    heading +
    `<g transform="translate(${centerX},${centerY})">${sunburstPaths(root, root.bytes)}` +
    `<text text-anchor="middle" y="-1" font-size="13" font-weight="600" fill="#333">${escapeXml(formatBytes(root.bytes))}</text>` +
    `<text text-anchor="middle" y="13" font-size="10" fill="#666">${side === 'ram' ? 'peak' : side === 'flash' ? 'image' : 'no weights'}</text></g>`
  );
}

function legend(footprint: Footprint, y: number, width: number): { svg: string; height: number } {
  const present = new Set<Family>();
  for (const side of ['flash', 'ram'] as const) {
    bytesByFamily(buildSideTree(footprint, side)).forEach(entry => present.add(entry.family));
  }
  const entries = (Object.keys(FAMILY_COLORS) as Family[]).filter(family => present.has(family));
  const columnWidth = 110;
  const perRow = Math.max(1, Math.floor((width - 40) / columnWidth));
  const items = entries.map((family, index) => {
    const left = 20 + (index % perRow) * columnWidth;
    const top = y + Math.floor(index / perRow) * 20;
    return (
      `<rect x="${left}" y="${top}" width="12" height="12" rx="2" fill="${familyColor(family)}"/>` +
      `<text x="${left + 18}" y="${top + 10}" font-size="12" fill="#333">${escapeXml(family)}</text>`
    );
  });
  return { svg: items.join(''), height: Math.ceil(entries.length / perRow) * 20 };
}

/** The whole chart as a standalone SVG document string. */
export function renderFootprintSVG(footprint: Footprint): string {
  const width = PANEL_WIDTH * 3;
  const legendTop = TOP + 2 * RADIUS + 34;
  const { svg: legendSvg, height: legendHeight } = legend(footprint, legendTop, width);
  const height = legendTop + legendHeight + 10;
  const caption = `${footprint.model} · ${footprint.target} · ${footprint.dtype}`;
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" style="max-width:100%;height:auto" ` +
    `viewBox="0 0 ${width} ${height}" font-family="sans-serif" role="img">` +
    `<title>${escapeXml(`edgespec footprint of ${caption}`)}</title>` +
    `<rect width="${width}" height="${height}" fill="#ffffff"/>` +
    sidePanel(footprint, 'flash', 0) +
    sidePanel(footprint, 'overhead', PANEL_WIDTH) +
    sidePanel(footprint, 'ram', 2 * PANEL_WIDTH) +
    legendSvg +
    `</svg>`
  );
}
