/**
 * Tick marks and labels for the run view's d3 charts, drawn with d3-selection from a scale's
 * own ticks (the charts need only a left and a bottom axis, styled by CSS classes).
 */
import type { Selection } from 'd3-selection';

type Group = Selection<SVGGElement, unknown, null, undefined>;

export interface AxisScale {
  (value: number): number;
  ticks(count?: number): number[];
}

/** A bottom axis at `y`: a baseline from x0 to x1 and one labelled tick per value. */
export function bottomAxis(group: Group, scale: AxisScale, y: number, range: [number, number], count: number, format: (value: number) => string): void {
  const axis = group.append('g').attr('class', 'jp-edgespec-axis').attr('transform', `translate(0,${y})`);
  axis.append('line').attr('x1', range[0]).attr('x2', range[1]);
  const ticks = axis
    .selectAll('g.jp-edgespec-tick')
    .data(scale.ticks(count))
    .join('g')
    .attr('class', 'jp-edgespec-tick')
    .attr('transform', value => `translate(${scale(value)},0)`);
  ticks.append('line').attr('y2', 4);
  ticks.append('text').attr('y', 14).attr('text-anchor', 'middle').text(format);
}

/** A left axis at `x`: one labelled tick per value with a faint grid line across to `width`. */
export function leftAxis(group: Group, scale: AxisScale, x: number, width: number, values: number[], format: (value: number) => string): void {
  const axis = group.append('g').attr('class', 'jp-edgespec-axis').attr('transform', `translate(${x},0)`);
  const ticks = axis
    .selectAll('g.jp-edgespec-tick')
    .data(values)
    .join('g')
    .attr('class', 'jp-edgespec-tick')
    .attr('transform', value => `translate(0,${scale(value)})`);
  ticks.append('line').attr('class', 'jp-edgespec-grid').attr('x2', width);
  ticks.append('text').attr('x', -6).attr('dy', '0.32em').attr('text-anchor', 'end').text(format);
}

/** Powers of ten inside a log domain (at most `most` of them, evenly thinned). */
export function decadeTicks(domain: [number, number], most = 6): number[] {
  const low = Math.ceil(Math.log10(domain[0]));
  const high = Math.floor(Math.log10(domain[1]));
  const decades: number[] = [];
  for (let power = low; power <= high; power++) {
    decades.push(Math.pow(10, power));
  }
  if (decades.length <= most) {
    return decades.length ? decades : [domain[0], domain[1]];
  }
  const every = Math.ceil(decades.length / most);
  return decades.filter((_, index) => index % every === 0);
}
