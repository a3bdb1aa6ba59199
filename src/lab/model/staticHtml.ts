/**
 * text/html fallbacks written into saved outputs, so a notebook opened without the
 * extension (GitHub, nbviewer, classic frontends) still shows the report. Inline styles
 * only; colours read JupyterLab variables when present and fall back to fixed ones. Pure.
 * The footprint's is the standalone report's (src/common/report), which the build writes too.
 */
import type { RunReport } from '../../common/types';
import { htmlSection as wrap, htmlTable as table } from '../../common/report/footprintHtml';
import { escapeXml as esc, formatBytes, formatShape } from '../../common/report/format';
import { agreementRows, measurements, outputRows, runVerdict, topFiveRows } from './runSummary';
import { modelTotals, opRows, TraceReport, unsupportedOps } from './traceTable';

export { footprintStaticHtml } from '../../common/report/footprintHtml';

const BAD = 'color:var(--jp-error-color1,#c62828);font-weight:600';
const GOOD = 'color:var(--jp-success-color1,#2e7d32);font-weight:600';

export function traceStaticHtml(report: TraceReport): string {
  const unsupported = unsupportedOps(report);
  const banner =
    unsupported.length > 0
      ? `<p style="${BAD}">Unsupported ops: ${unsupported.map(entry => esc(entry.op)).join(', ')}</p>`
      : '';
  const models = report.models
    .map(model => {
      const totals = modelTotals(model);
      const io = (list: { shape: number[]; dtype: string }[]): string =>
        list.map(tensor => `${formatShape(tensor.shape)} ${tensor.dtype}`).join(', ');
      const rows = opRows(model).map(row => [
        esc(row.frameworkOp),
        esc(String(row.count)),
        esc(row.edgespecOp ?? '—'),
        row.supported ? `<span style="${GOOD}">yes</span>` : `<span style="${BAD}">NO</span>`
      ]);
      return (
        `<h4 style="margin:8px 0 2px 0">${esc(model.name)}</h4>` +
        `<p style="margin:2px 0">inputs ${esc(io(model.inputs))} → outputs ${esc(io(model.outputs))}; ` +
        (model.parameter_bytes === null ? 'not captured; ' : `${esc(formatBytes(model.parameter_bytes))} of parameters; ${model.nodes} nodes; `) +
        `${totals.frameworkOps} framework ops (${totals.dispatched} calls)</p>` +
        table(['framework op', 'count', 'edgespec op', 'supported'], rows, [false, true, false, false])
      );
    })
    .join('');
  const error = report.error ? `<p style="${BAD}">${esc(report.error.message)}</p>${report.error.hint ? `<p>${esc(report.error.hint)}</p>` : ''}` : '';
  return wrap('edgespec trace', error + banner + models);
}

export function runStaticHtml(report: RunReport): string {
  const verdict = runVerdict(report);
  const tone = verdict.tone === 'good' ? GOOD : BAD;
  const agreement = agreementRows(report).map(row => [
    esc(row.label),
    row.ok === null ? esc(row.value) : `<span style="${row.ok ? GOOD : BAD}">${esc(row.value)}</span>`,
    esc(row.detail ?? '')
  ]);
  const top = topFiveRows(report).map(row => [
    esc(String(row.rank)),
    esc(row.guest === null ? '—' : String(row.guest)),
    esc(row.reference === null ? '—' : String(row.reference))
  ]);
  const numbers = measurements(report).map(row => [esc(row.label), esc(row.value), esc(row.how)]);
  const outputs = outputRows(report).map(row => [esc(row.name), esc(row.shape), esc(row.dtype), esc(row.first)]);
  return wrap(
    `edgespec run: ${report.model} · ${report.target}`,
    `<p style="${tone}">${esc(verdict.title)}</p><p style="margin:2px 0">${esc(verdict.detail)}</p>` +
      (agreement.length ? table(['agreement', 'value', ''], agreement) : '') +
      (top.length ? table(['rank', 'image class', 'framework class'], top, [true, true, true]) : '') +
      table(['', 'value', 'how it was measured'], numbers) +
      table(['output', 'shape', 'dtype', 'first values'], outputs)
  );
}
