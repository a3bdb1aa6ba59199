/**
 * The Layers section's plot: each compared layer's error against its depth on a log scale
 * (relative error, or quantization steps for int8), the tolerance as a line, the first
 * divergent layer marked. Clicking a point selects its layer.
 */
import { scaleLinear, scaleLog } from 'd3-scale';
import { select } from 'd3-selection';
import { line } from 'd3-shape';
import { formatFloat } from '../../common/report/format';
import type { ErrorPlot, PlotPoint } from '../model/divergence';
import { bottomAxis, decadeTicks, leftAxis } from './chartAxes';
import { h, SVG_NS } from './dom';

const WIDTH = 720;
const HEIGHT = 230;
const MARGIN = { top: 14, right: 16, bottom: 34, left: 58 };

export class DivergencePlot {
  readonly node: HTMLElement;
  private readonly svgElement: SVGSVGElement;

  constructor(
    private readonly plot: ErrorPlot,
    private readonly onSelect: (position: number) => void
  ) {
    this.svgElement = document.createElementNS(SVG_NS, 'svg');
    this.node = h(
      'div',
      'jp-edgespec-plot',
      this.svgElement,
      plot.points.some(point => point.error === 0) ? h('div', 'jp-edgespec-note', 'Hollow points: no error at all (image and framework equal), drawn at the bottom of the scale.') : null
    );
    this.draw();
  }

  /** Ring the point of the selected layer. */
  select(position: number | null): void {
    select(this.svgElement)
      .selectAll<SVGCircleElement, PlotPoint>('circle.jp-edgespec-point')
      .classed('jp-mod-selected', point => point.position === position);
  }

  private draw(): void {
    const plot = this.plot;
    const svg = select(this.svgElement)
      .attr('viewBox', `0 0 ${WIDTH} ${HEIGHT}`)
      .attr('class', 'jp-edgespec-divergence-plot')
      .attr('role', 'img')
      .attr('aria-label', `${this.unitLabel()} against layer depth`);
    const right = WIDTH - MARGIN.right;
    const bottom = HEIGHT - MARGIN.bottom;
    const [firstDepth, lastDepth] = plot.depth;
    const x = scaleLinear()
      .domain(firstDepth === lastDepth ? [firstDepth - 1, lastDepth + 1] : [firstDepth, lastDepth])
      .range([MARGIN.left + 6, right - 6]);
    const y = scaleLog().domain(plot.domain).range([bottom, MARGIN.top]).clamp(true);
    const axes = svg.append('g');
    leftAxis(axes, y, MARGIN.left, right - MARGIN.left, decadeTicks(plot.domain), value => value.toExponential(0));
    bottomAxis(axes, x, bottom, [MARGIN.left, right], 10, value => (Number.isInteger(value) ? String(value) : ''));
    svg
      .append('text')
      .attr('class', 'jp-edgespec-axis-label')
      .attr('transform', `translate(12,${(MARGIN.top + bottom) / 2}) rotate(-90)`)
      .attr('text-anchor', 'middle')
      .text(this.unitLabel());
    svg
      .append('text')
      .attr('class', 'jp-edgespec-axis-label')
      .attr('x', (MARGIN.left + right) / 2)
      .attr('y', HEIGHT - 4)
      .attr('text-anchor', 'middle')
      .text('layer (depth in the schedule)');

    if (plot.tolerance !== null) {
      svg
        .append('line')
        .attr('class', 'jp-edgespec-tolerance')
        .attr('x1', MARGIN.left)
        .attr('x2', right)
        .attr('y1', y(plot.tolerance))
        .attr('y2', y(plot.tolerance));
      svg
        .append('text')
        .attr('class', 'jp-edgespec-tolerance-label')
        .attr('x', right - 4)
        .attr('y', y(plot.tolerance) - 4)
        .attr('text-anchor', 'end')
        .text(`tolerance ${formatFloat(plot.tolerance)}`);
    } else {
      // layers held to different bars: each point's own tolerance as a step line
      const withTolerance = plot.points.filter(point => point.tolerance !== null && point.tolerance > 0);
      svg
        .append('path')
        .attr('class', 'jp-edgespec-tolerance')
        .attr('d', line<PlotPoint>().x(point => x(point.index)).y(point => y(point.tolerance as number))(withTolerance) ?? '');
    }

    const first = plot.points.find(point => point.first);
    if (first) {
      svg
        .append('line')
        .attr('class', 'jp-edgespec-first-marker')
        .attr('x1', x(first.index))
        .attr('x2', x(first.index))
        .attr('y1', MARGIN.top)
        .attr('y2', bottom);
      svg
        .append('text')
        .attr('class', 'jp-edgespec-first-label')
        .attr('x', x(first.index) + (x(first.index) > (MARGIN.left + right) / 2 ? -4 : 4))
        // at the foot of the marker: the diverging layers' points crowd the top
        .attr('y', bottom - 6)
        .attr('text-anchor', x(first.index) > (MARGIN.left + right) / 2 ? 'end' : 'start')
        .text(`first divergent: #${first.index}`);
    }

    svg
      .append('path')
      .attr('class', 'jp-edgespec-error-line')
      .attr('d', line<PlotPoint>().x(point => x(point.index)).y(point => y(point.value))(plot.points) ?? '');
    svg
      .append('g')
      .selectAll('circle')
      .data(plot.points)
      .join('circle')
      .attr('class', point => `jp-edgespec-point ${point.first ? 'jp-mod-first' : point.within === false ? 'jp-mod-over' : point.error === 0 ? 'jp-mod-exact' : ''}`)
      .attr('cx', point => x(point.index))
      .attr('cy', point => y(point.value))
      .attr('r', point => (point.first ? 5 : 3))
      .on('click', (_, point) => this.onSelect(point.position))
      .append('title')
      .text(point => `${point.label}\n${this.unitLabel()}: ${formatFloat(point.error)}${point.tolerance !== null ? ` (tolerance ${formatFloat(point.tolerance)})` : ''}`);
  }

  private unitLabel(): string {
    return this.plot.unit === 'quant_steps' ? 'error in quantization steps' : 'max relative error';
  }
}
