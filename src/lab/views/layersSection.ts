/**
 * The run view's Layers section (divergence.json of `edgespec diff`): a verdict, the error
 * against depth, the table of layers with the first divergent one marked, and the detail of
 * the selected layer (op, attributes, shapes, module, source, values side by side).
 */
import type { DivergenceReport } from '../../common/types';
import { divergenceVerdict, errorPlot, firstDivergentPosition, layerDetail, LayerRow, layerRows } from '../model/divergence';
import { DivergencePlot } from './divergencePlot';
import { clear, dataTable, h, keyValueTable } from './dom';

export class LayersSection {
  readonly node: HTMLElement;
  private readonly rows: LayerRow[];
  private readonly rowNodes: HTMLTableRowElement[] = [];
  private readonly detail = h('div', { className: 'jp-edgespec-layer-detail', attrs: { 'aria-live': 'polite' } });
  private readonly plot: DivergencePlot;
  private selected: number | null = null;

  constructor(private readonly report: DivergenceReport) {
    this.rows = layerRows(report);
    const verdict = divergenceVerdict(report);
    this.plot = new DivergencePlot(errorPlot(report), position => this.select(position, true));
    const int8 = report.dtype === 'int8';
    this.node = h(
      'section',
      { className: 'jp-edgespec-section jp-edgespec-layers', attrs: { 'data-status': report.status } },
      h('h4', {}, 'Layers'),
      h(
        'div',
        { className: `jp-edgespec-banner jp-mod-${verdict.tone}`, attrs: { role: verdict.tone === 'good' ? 'status' : 'alert' } },
        h('div', 'jp-edgespec-banner-title', verdict.title),
        h('div', {}, verdict.detail)
      ),
      this.plot.node,
      h(
        'div',
        'jp-edgespec-layers-main',
        h('div', 'jp-edgespec-table-wrap jp-mod-tall jp-edgespec-layers-table', this.table(int8)),
        this.detail
      ),
      h('div', 'jp-edgespec-note', `${report.how} Debug build: ${report.debug_build}.`)
    );
    this.select(firstDivergentPosition(report) ?? (this.rows.length ? 0 : null), false);
  }

  private table(int8: boolean): HTMLTableElement {
    const headers = ['#', 'module', 'op', 'shape', 'max abs', 'rel error', 'cosine', ...(int8 ? ['quant steps'] : []), 'within'];
    const numeric = [true, false, false, false, true, true, true, ...(int8 ? [true] : []), false];
    const table = dataTable(
      headers,
      this.rows.map(row => [
        String(row.index),
        h('code', {}, row.module || '—'),
        row.op,
        row.shape,
        row.maxAbs,
        row.relative,
        row.cosine,
        ...(int8 ? [row.quantSteps] : []),
        this.verdictCell(row)
      ]),
      {
        numeric,
        className: 'jp-edgespec-layer-table',
        rowClass: index => {
          const row = this.rows[index];
          return [row.first ? 'jp-edgespec-row-first' : '', row.within === false ? 'jp-edgespec-row-bad' : '', row.compared ? '' : 'jp-edgespec-row-skipped']
            .filter(Boolean)
            .join(' ');
        }
      }
    );
    table.querySelectorAll('tbody tr').forEach((node, position) => {
      const tr = node as HTMLTableRowElement;
      tr.tabIndex = 0;
      tr.dataset.position = String(position);
      tr.dataset.within = String(this.rows[position].within);
      tr.addEventListener('click', () => this.select(position, false));
      tr.addEventListener('keydown', event => {
        if (event.key === 'Enter' || event.key === ' ') {
          event.preventDefault();
          this.select(position, false);
        }
      });
      this.rowNodes.push(tr);
    });
    return table;
  }

  private verdictCell(row: LayerRow): HTMLElement {
    if (!row.compared) {
      return h('span', { className: 'jp-edgespec-muted', title: row.why ?? '' }, `not compared: ${row.why}`);
    }
    const mark = row.within === null ? '—' : row.within ? '✓ yes' : '✗ no';
    return h(
      'span',
      row.within === false ? 'jp-edgespec-bad' : row.within ? 'jp-edgespec-ok' : '',
      mark,
      row.first ? h('span', 'jp-edgespec-first-badge', 'first divergent') : null
    );
  }

  private select(position: number | null, scroll: boolean): void {
    this.selected = position;
    this.rowNodes.forEach((node, index) => node.classList.toggle('jp-mod-selected', index === position));
    this.plot.select(position);
    if (scroll && position !== null) {
      this.rowNodes[position]?.scrollIntoView({ block: 'nearest' });
    }
    this.renderDetail();
  }

  private renderDetail(): void {
    clear(this.detail);
    if (this.selected === null) {
      this.detail.append(h('div', 'jp-edgespec-empty', 'No layers in this report.'));
      return;
    }
    const layer = this.report.layers[this.selected];
    const detail = layerDetail(layer);
    this.detail.append(
      h('h5', {}, `#${layer.index} ${layer.op}`, layer.module ? h('span', 'jp-edgespec-muted', ` · ${layer.module}`) : null),
      keyValueTable(detail.facts.map(([key, value]) => [key, key === 'source' || key === 'module' ? h('code', {}, value) : value])),
      detail.attributes.length
        ? h('div', {}, h('h5', {}, 'Attributes'), keyValueTable(detail.attributes.map(([key, value]) => [key, h('code', {}, value)])))
        : h('div', 'jp-edgespec-note', 'No attributes.'),
      detail.values.length
        ? h(
            'div',
            {},
            h('h5', {}, 'Values side by side'),
            dataTable(
              ['index', 'image', 'framework', 'difference'],
              detail.values.map(value => [String(value.index), value.image, value.framework, value.difference]),
              { numeric: [true, true, true, true], rowClass: index => (detail.values[index].largest ? 'jp-edgespec-row-largest' : '') }
            )
          )
        : h('div', 'jp-edgespec-note', layer.compared ? 'The report holds no values of this layer.' : `Not compared: ${layer.why ?? 'no framework value'}.`)
    );
  }
}
