/**
 * The zoomable sunburst of one footprint side, drawn with d3-selection. Click a ring to
 * zoom into it, the centre to zoom out; hovering shows an infocard. Search results dim the
 * rest. Colours come from CSS classes per kind (style/footprint.css), so themes apply.
 */
import { select, Selection } from 'd3-selection';
import type { FootprintItem } from '../../common/report/footprintTree';
import { formatBytes, formatShare } from '../../common/report/format';
import {
  annularSectorPath,
  ArcBox,
  arcVisible,
  partitionSide,
  placeLabel,
  shortLabel,
  SunburstNode,
  VISIBLE_RINGS,
  zoomedBox
} from '../model/sunburst';
import { append, clear, h, SVG_NS } from './dom';

const RADIUS = 170;
const RING = RADIUS / (VISIBLE_RINGS + 1);
const ZOOM_MS = 450;

export type ColorBy = 'family' | 'kind';

/** The CSS class that colours an item (style/footprint.css). */
export function colorClass(item: Pick<FootprintItem, 'family' | 'kind'>, colorBy: ColorBy): string {
  return colorBy === 'family' ? `jp-edgespec-family-${item.family}` : `jp-edgespec-kind-${item.kind ?? 'other'}`;
}

export interface SunburstCallbacks {
  onFocus(id: string): void;
  onHover(id: string | null): void;
}

export class SunburstChart {
  readonly node: HTMLElement;
  private readonly svg: Selection<SVGSVGElement, unknown, null, undefined>;
  private readonly arcs: Selection<SVGGElement, unknown, null, undefined>;
  private readonly labels: Selection<SVGGElement, unknown, null, undefined>;
  private readonly centerName: Selection<SVGTextElement, unknown, null, undefined>;
  private readonly centerBytes: Selection<SVGTextElement, unknown, null, undefined>;
  private readonly tooltip: HTMLElement;
  private root: SunburstNode | null = null;
  private total = 0;
  private focus: SunburstNode | null = null;
  private boxes = new Map<string, ArcBox>();
  private lit: Set<string> | null = null;
  private animation = 0;
  private colorBy: ColorBy = 'family';

  constructor(private readonly callbacks: SunburstCallbacks) {
    this.tooltip = h('div', { className: 'jp-edgespec-tooltip', attrs: { role: 'tooltip' } });
    this.node = h('div', 'jp-edgespec-chart');
    const svgElement = document.createElementNS(SVG_NS, 'svg');
    this.node.append(svgElement, this.tooltip);
    this.svg = select(svgElement)
      .attr('viewBox', `${-RADIUS} ${-RADIUS} ${2 * RADIUS} ${2 * RADIUS}`)
      .attr('class', 'jp-edgespec-sunburst')
      .attr('role', 'img');
    this.arcs = this.svg.append('g');
    this.labels = this.svg.append('g').attr('class', 'jp-edgespec-arc-labels').attr('pointer-events', 'none');
    const center = this.svg
      .append('g')
      .attr('class', 'jp-edgespec-center')
      .on('click', () => {
        if (this.focus?.parent) {
          this.callbacks.onFocus(this.focus.parent.data.id);
        }
      });
    center.append('circle').attr('r', RING - 2);
    this.centerName = center.append('text').attr('class', 'jp-edgespec-center-name').attr('y', -4);
    this.centerBytes = center.append('text').attr('class', 'jp-edgespec-center-bytes').attr('y', 14);
  }

  /** A new tree (another side or footprint): redraw without animation. */
  setTree(root: FootprintItem, focusId: string): void {
    this.root = partitionSide(root);
    this.total = root.bytes;
    this.focus = this.find(focusId) ?? this.root;
    this.boxes = this.targetBoxes();
    this.draw();
  }

  /** Zoom to an item, animating the rings. */
  setFocus(focusId: string): void {
    const focus = this.find(focusId);
    if (!this.root || !focus || focus === this.focus) {
      return;
    }
    this.focus = focus;
    const from = this.boxes;
    const to = this.targetBoxes();
    cancelAnimationFrame(this.animation);
    const start = performance.now();
    const step = (now: number): void => {
      const t = Math.min(1, (now - start) / ZOOM_MS);
      const eased = t < 0.5 ? 4 * t * t * t : 1 - Math.pow(-2 * t + 2, 3) / 2;
      this.boxes = new Map(
        [...to].map(([id, target]) => {
          const origin = from.get(id) ?? target;
          return [id, lerpBox(origin, target, eased)];
        })
      );
      this.updateGeometry();
      if (t < 1) {
        this.animation = requestAnimationFrame(step);
      }
    };
    this.animation = requestAnimationFrame(step);
    this.updateCenter();
  }

  setColorBy(colorBy: ColorBy): void {
    this.colorBy = colorBy;
    this.arcs
      .selectAll<SVGPathElement, SunburstNode>('path')
      .attr('class', node => `jp-edgespec-arc ${colorClass(node.data, this.colorBy)}`)
      .classed('jp-edgespec-dim', node => this.isDimmed(node));
  }

  /** Items to keep lit (null: no search, nothing dimmed). */
  setLit(lit: Set<string> | null): void {
    this.lit = lit;
    this.arcs.selectAll<SVGPathElement, SunburstNode>('path').classed('jp-edgespec-dim', node => this.isDimmed(node));
  }

  /** Outline the arc of an item hovered in the table. */
  highlight(id: string | null): void {
    this.arcs.selectAll<SVGPathElement, SunburstNode>('path').classed('jp-edgespec-arc-hover', node => node.data.id === id);
  }

  private find(id: string): SunburstNode | undefined {
    return this.root?.descendants().find(node => node.data.id === id);
  }

  private targetBoxes(): Map<string, ArcBox> {
    const focus = this.focus!;
    return new Map(this.root!.descendants().map(node => [node.data.id, zoomedBox(node, focus)]));
  }

  private isDimmed(node: SunburstNode): boolean {
    return this.lit !== null && !this.lit.has(node.data.id);
  }

  private draw(): void {
    const nodes = this.root ? this.root.descendants().slice(1) : [];
    this.arcs
      .selectAll<SVGPathElement, SunburstNode>('path')
      .data(nodes, node => node.data.id)
      .join('path')
      .attr('class', node => `jp-edgespec-arc ${colorClass(node.data, this.colorBy)}`)
      .classed('jp-edgespec-dim', node => this.isDimmed(node))
      .on('click', (_event, node) => {
        if (node.children) {
          this.callbacks.onFocus(node.data.id);
        }
      })
      .on('mousemove', (event: MouseEvent, node) => this.showTooltip(event, node))
      .on('mouseleave', () => this.hideTooltip());
    this.labels
      .selectAll<SVGTextElement, SunburstNode>('text')
      .data(nodes, node => node.data.id)
      .join('text')
      .attr('dy', '0.35em');
    this.updateGeometry();
    this.updateCenter();
  }

  private updateGeometry(): void {
    const focusDepth = this.focus?.depth ?? 0;
    this.arcs
      .selectAll<SVGPathElement, SunburstNode>('path')
      .attr('d', node => {
        const box = this.boxes.get(node.data.id)!;
        return arcVisible(box, 0) ? annularSectorPath(box.x0, box.x1, box.y0 * RING, box.y1 * RING - 1, 0.004) : '';
      })
      .attr('fill-opacity', node => {
        const depth = node.depth - focusDepth;
        return arcVisible(this.boxes.get(node.data.id)!) ? String(Math.max(0.45, 1 - (depth - 1) * 0.2)) : '0';
      })
      .attr('pointer-events', node => (arcVisible(this.boxes.get(node.data.id)!) ? 'auto' : 'none'))
      .attr('cursor', node => (node.children ? 'pointer' : 'default'));
    this.labels.selectAll<SVGTextElement, SunburstNode>('text').each((node, index, texts) => {
      const text = texts[index];
      const placement = placeLabel(this.boxes.get(node.data.id)!, RING);
      const label = placement ? shortLabel(node.data.name, node.parent && node.parent.depth > 0 ? node.parent.data.name : null, placement.chars) : '';
      if (!placement || label === '') {
        text.setAttribute('visibility', 'hidden');
        return;
      }
      text.setAttribute('visibility', 'visible');
      text.setAttribute('transform', placement.transform);
      if (text.textContent !== label) {
        text.textContent = label;
      }
    });
  }

  private updateCenter(): void {
    const focus = this.focus;
    if (!focus) {
      return;
    }
    this.centerName.text(shortLabel(focus.data.name, null, Math.floor((RING * 2 - 8) / 6)));
    this.centerBytes.text(formatBytes(focus.value ?? 0));
    this.svg.select('.jp-edgespec-center').classed('jp-mod-zoomable', focus.parent !== null);
    this.svg
      .select('.jp-edgespec-center')
      .attr('cursor', focus.parent ? 'pointer' : 'default')
      .selectAll('title')
      .data([0])
      .join('title')
      .text(focus.parent ? `Back to ${focus.parent.data.name}` : focus.data.name);
  }

  private showTooltip(event: MouseEvent, node: SunburstNode): void {
    const item = node.data;
    const parent = node.parent;
    clear(this.tooltip);
    append(
      this.tooltip,
      h('div', 'jp-edgespec-tooltip-title', item.name),
      h('div', 'jp-edgespec-tooltip-path', item.path.slice(0, -1).join(' › ') || '(top level)'),
      h('div', 'jp-edgespec-tooltip-bytes', `${formatBytes(item.bytes)} · ${item.bytes.toLocaleString('en-US')} B`),
      h('div', {}, `${formatShare(item.bytes, this.total)} of the side`),
      parent && parent.depth > 0 ? h('div', {}, `${formatShare(item.bytes, parent.value ?? 0)} of ${parent.data.name}`) : null,
      item.kind ? h('div', {}, `kind: ${item.kind}`) : null,
      h('div', {}, item.source ? `source: ${item.source}` : `mostly ${item.family}`),
      item.children.length > 0 ? h('div', 'jp-edgespec-tooltip-hint', 'click to zoom in') : null
    );
    const bounds = this.node.getBoundingClientRect();
    const x = event.clientX - bounds.left + 14;
    const y = event.clientY - bounds.top + 14;
    this.tooltip.style.left = `${Math.min(x, bounds.width - 200)}px`;
    this.tooltip.style.top = `${y}px`;
    this.tooltip.classList.add('jp-mod-visible');
    this.callbacks.onHover(item.id);
  }

  private hideTooltip(): void {
    this.tooltip.classList.remove('jp-mod-visible');
    this.callbacks.onHover(null);
  }
}

function lerpBox(a: ArcBox, b: ArcBox, t: number): ArcBox {
  return {
    x0: a.x0 + (b.x0 - a.x0) * t,
    x1: a.x1 + (b.x1 - a.x1) * t,
    y0: a.y0 + (b.y0 - a.y0) * t,
    y1: a.y1 + (b.y1 - a.y1) * t
  };
}
