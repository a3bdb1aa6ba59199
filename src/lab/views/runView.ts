/** The run view: verdict, agreement with the framework, top-5, numbers, layers, profile, outputs, console. */
import { Widget } from '@lumino/widgets';
import type { RunReport } from '../../common/types';
import type { EdgespecActions } from '../actions';
import { agreementRows, measurements, outputRows, runVerdict, topFiveRows } from '../model/runSummary';
import { button, dataTable, h } from './dom';
import { LayersPanel } from './layersPanel';
import { profileSection } from './profileSection';
import { streamSection } from './streamSection';

export interface RunViewOptions {
  actions: EdgespecActions | null;
  /** The build directory that was run, when the output says so. */
  build: string | null;
}

export class RunView extends Widget {
  private readonly layers: LayersPanel | null;

  constructor(report: RunReport, options: RunViewOptions) {
    super();
    this.addClass('jp-edgespec-view');
    this.addClass('jp-edgespec-run');
    const verdict = runVerdict(report);
    const actions = options.actions;
    const build = options.build;
    const bar = h('div', 'jp-edgespec-actions');
    this.layers = actions && build ? new LayersPanel(actions, build) : null;
    if (actions && build) {
      bar.append(
        this.layers!.button,
        button('Run again', () => actions.run(build), { title: `Boot ${build} again` }),
        button('Footprint', () => actions.openFootprint(build)),
        button('Download', () => actions.download(build))
      );
    }
    this.node.append(
      h(
        'div',
        'jp-edgespec-header',
        h(
          'div',
          'jp-edgespec-title',
          h('span', 'jp-edgespec-kicker', 'edgespec run'),
          h('span', 'jp-edgespec-name', report.model),
          h('span', 'jp-edgespec-subtitle', `${report.target} · ${report.dtype ?? 'float32'} · input: ${report.input} · status ${report.status}`)
        ),
        bar
      ),
      h(
        'div',
        { className: `jp-edgespec-banner jp-mod-${verdict.tone}`, attrs: { role: verdict.tone === 'good' ? 'status' : 'alert' } },
        h('div', 'jp-edgespec-banner-title', verdict.title),
        h('div', {}, verdict.detail)
      )
    );
    const grid = h('div', 'jp-edgespec-run-grid');
    const agreement = agreementRows(report);
    if (agreement.length > 0) {
      grid.append(
        h(
          'section',
          'jp-edgespec-section',
          h('h4', {}, 'Agreement with the framework'),
          dataTable(
            ['', 'value', ''],
            agreement.map(row => [
              row.label,
              h('span', row.ok === null ? '' : row.ok ? 'jp-edgespec-ok' : 'jp-edgespec-bad', `${row.ok === null ? '' : row.ok ? '✓ ' : '✗ '}${row.value}`),
              h('span', 'jp-edgespec-muted', row.detail ?? '')
            ])
          )
        )
      );
    }
    const top = topFiveRows(report);
    if (top.length > 0) {
      grid.append(
        h(
          'section',
          'jp-edgespec-section',
          h('h4', {}, 'Top-5 classes'),
          dataTable(
            ['rank', 'image', 'framework'],
            top.map(row => [
              String(row.rank),
              h(
                'span',
                { className: row.sameRank ? 'jp-edgespec-ok' : row.inReference ? 'jp-edgespec-warn' : 'jp-edgespec-bad', title: row.sameRank ? 'same class at this rank' : row.inReference ? 'in the framework top-5, at another rank' : 'not in the framework top-5' },
                row.guest === null ? '—' : String(row.guest)
              ),
              row.reference === null ? '—' : String(row.reference)
            ]),
            { numeric: [true, true, true] }
          )
        )
      );
    }
    grid.append(
      h(
        'section',
        'jp-edgespec-section',
        h('h4', {}, 'Measured'),
        dataTable(
          ['', 'value', 'how'],
          measurements(report).map(row => [row.label, h('strong', {}, row.value), h('span', 'jp-edgespec-muted', row.how)])
        )
      )
    );
    this.node.append(grid);
    if (report.fault) {
      this.node.append(
        h(
          'section',
          'jp-edgespec-section',
          h('h4', {}, 'Fault'),
          dataTable(
            ['exception', 'address', 'symbol', 'ESR'],
            [[report.fault.exception_class, h('code', {}, report.fault.address), h('code', {}, report.fault.symbol), h('code', {}, report.fault.esr)]]
          )
        )
      );
    }
    if (this.layers) {
      this.node.append(this.layers.node);
    }
    this.node.append(
      streamSection(report) ?? '',
      profileSection(report) ?? '',
      h(
        'section',
        'jp-edgespec-section',
        h('h4', {}, 'Outputs'),
        dataTable(
          ['output', 'shape', 'dtype', 'first values'],
          outputRows(report).map(row => [h('code', {}, row.name), row.shape, row.dtype, h('code', 'jp-edgespec-values', row.first)])
        )
      ),
      h(
        'details',
        { className: 'jp-edgespec-section jp-edgespec-console', attrs: { open: '' } },
        h('summary', {}, `Console (${report.console.split('\n').filter(line => line).length} lines)`),
        h('pre', {}, report.console || '(empty)')
      )
    );
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this.layers?.dispose();
    super.dispose();
  }
}
