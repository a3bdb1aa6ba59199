/** The run view's "Many inputs" section: a run that streamed inputs through one boot, with agreement per input and a histogram of errors. */
import type { RunReport } from '../../common/types';
import { formatFloat, formatInteger, formatMilliseconds } from '../../common/report/format';
import { errorHistogram, streamRows, streamSummary, StreamRow } from '../model/stream';
import { barChart } from './barChart';
import { button, Child, dataTable, h, keyValueTable } from './dom';

/** Inputs listed before "Show all". */
const FIRST_INPUTS = 20;

function statusCell(row: StreamRow): Child {
  const className = row.status === 'ok' ? 'jp-edgespec-ok' : 'jp-edgespec-warn';
  return h('span', { className, title: row.error ?? '' }, row.status);
}

function inputRows(rows: StreamRow[]): Child[][] {
  return rows.map(row => [
    String(row.index),
    h('code', {}, row.input),
    statusCell(row),
    row.maxAbsError === null ? '—' : formatFloat(row.maxAbsError),
    row.errorToBar === null ? '—' : row.errorToBar === Infinity ? '∞' : formatFloat(row.errorToBar),
    formatMilliseconds(row.wallMs),
    row.invoke === null ? '—' : row.invoke.unit === 'instructions' ? `${formatInteger(row.invoke.value)} instructions` : formatMilliseconds(row.invoke.value / 1e6)
  ]);
}

export function streamSection(report: RunReport): HTMLElement | null {
  const stream = report.stream;
  if (!stream) {
    return null;
  }
  const summary = streamSummary(stream);
  const rows = streamRows(stream);
  const verdictClass = summary.verdict === 'ok' ? 'jp-edgespec-ok' : 'jp-edgespec-warn';
  const facts: [string, Child, string?][] = [
    ['answered', h('strong', { className: verdictClass }, summary.answered), `through ${stream.port}`],
    [
      'agreeing',
      summary.agreeing === null
        ? 'not compared: run with --expected to compare each input'
        : `${summary.agreeing}${summary.worst ? `; the worst, input ${summary.worst.index}, at ${formatFloat(summary.worst.errorToBar ?? 0)} × the bar` : ''}`
    ],
    ['ready after', formatMilliseconds(stream.ready_ms), 'from starting the guest (or opening the device) to its READY frame']
  ];
  const headers = ['#', 'input', 'status', 'max abs error', 'error / bar', 'round trip', 'invoke'];
  const numeric = [true, false, false, true, true, true, true];
  const table = h('div', 'jp-edgespec-stream-inputs', dataTable(headers, inputRows(rows.slice(0, FIRST_INPUTS)), { numeric }));
  const more =
    rows.length > FIRST_INPUTS
      ? button(`Show all ${rows.length} inputs`, () => {
          table.replaceChildren(dataTable(headers, inputRows(rows), { numeric }));
          more?.remove();
        })
      : null;
  const histogram = errorHistogram(stream);
  return h(
    'section',
    { className: 'jp-edgespec-section jp-edgespec-stream', attrs: { 'data-verdict': summary.verdict } },
    h('h4', {}, `Many inputs: ${stream.inputs} through one boot`),
    keyValueTable(facts),
    histogram ? h('h5', {}, 'Errors against the bar') : null,
    histogram ? barChart(histogram, 'inputs', 'inputs per band of max abs error / tolerance (the bar of edgespec run); share of the compared inputs') : null,
    h('h5', {}, 'Per input'),
    table,
    more
  );
}
