/** A sorted horizontal bar chart (d3): one labelled bar per item with its count and share. */
import { scaleBand, scaleLinear } from 'd3-scale';
import { select } from 'd3-selection';
import { formatCount, formatShare } from '../../common/report/format';
import type { ProfileBar } from '../model/profile';
import { h, SVG_NS } from './dom';

const WIDTH = 720;
const ROW = 18;
const LABEL = 250;
const VALUE = 130;

export function barChart(bars: ProfileBar[], unit: string, caption: string): HTMLElement {
  const svgElement = document.createElementNS(SVG_NS, 'svg');
  const height = Math.max(1, bars.length) * ROW + 4;
  const svg = select(svgElement)
    .attr('viewBox', `0 0 ${WIDTH} ${height}`)
    .attr('class', 'jp-edgespec-bars')
    .attr('role', 'img')
    .attr('aria-label', caption);
  const largest = Math.max(1, ...bars.map(bar => bar.count));
  const x = scaleLinear().domain([0, largest]).range([0, WIDTH - LABEL - VALUE - 8]);
  const y = scaleBand<number>()
    .domain(bars.map((_, index) => index))
    .range([2, height - 2])
    .paddingInner(0.2);
  const rows = svg
    .selectAll('g')
    .data(bars)
    .join('g')
    .attr('class', 'jp-edgespec-bar-row')
    .attr('transform', (_, index) => `translate(0,${y(index)})`);
  rows.append('title').text(bar => `${bar.label}\n${bar.detail}\n${bar.count.toLocaleString('en-US')} ${unit} (${formatShare(bar.share, 1)})`);
  rows
    .append('text')
    .attr('class', 'jp-edgespec-bar-label')
    .attr('x', LABEL - 6)
    .attr('y', y.bandwidth() / 2)
    .attr('dy', '0.32em')
    .attr('text-anchor', 'end')
    .text(bar => (bar.label.length > 38 ? `…${bar.label.slice(-37)}` : bar.label));
  rows
    .append('rect')
    .attr('class', 'jp-edgespec-bar')
    .attr('x', LABEL)
    .attr('width', bar => Math.max(1, x(bar.count)))
    .attr('height', y.bandwidth());
  rows
    .append('text')
    .attr('class', 'jp-edgespec-bar-value')
    .attr('x', bar => LABEL + Math.max(1, x(bar.count)) + 6)
    .attr('y', y.bandwidth() / 2)
    .attr('dy', '0.32em')
    .text(bar => `${formatCount(bar.count)} · ${formatShare(bar.share, 1)}`);
  return h('figure', 'jp-edgespec-bar-chart', svgElement, h('figcaption', 'jp-edgespec-note', caption));
}
