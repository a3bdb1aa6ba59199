/**
 * text/html fallbacks written into saved outputs, so a notebook opened without the
 * extension (GitHub, nbviewer, classic frontends) still shows the report. Inline styles
 * only; colours read JupyterLab variables when present and fall back to fixed ones. Pure.
 */
import type { Footprint, RunReport } from '../../common/types';
import { buildSideTree, bytesBySource } from './footprintTree';
import { escapeXml as esc, formatBytes, formatExactBytes, formatInteger, formatShape, formatShare } from './format';
import { renderFootprintSVG } from './footprintSvg';
import { compareWithReferenceStack, formatTimes } from './referenceStack';
import { agreementRows, measurements, outputRows, runVerdict, topFiveRows } from './runSummary';
import { modelTotals, opRows, TraceReport, unsupportedOps } from './traceTable';

const FONT = 'font-family:var(--jp-ui-font-family,sans-serif);font-size:13px;color:var(--jp-ui-font-color1,#222)';
const TABLE = 'border-collapse:collapse;margin:6px 0 12px 0';
const CELL = 'padding:2px 10px;border-bottom:1px solid var(--jp-border-color2,#ddd);text-align:left';
const NUM = `${CELL};text-align:right;font-variant-numeric:tabular-nums`;
const BAD = 'color:var(--jp-error-color1,#c62828);font-weight:600';
const GOOD = 'color:var(--jp-success-color1,#2e7d32);font-weight:600';

function table(headers: string[], rows: string[][], numeric: boolean[] = []): string {
  const head = headers.map((header, i) => `<th style="${numeric[i] ? NUM : CELL}">${esc(header)}</th>`).join('');
  const body = rows
    .map(row => `<tr>${row.map((cell, i) => `<td style="${numeric[i] ? NUM : CELL}">${cell}</td>`).join('')}</tr>`)
    .join('');
  return `<table style="${TABLE}"><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
}

function wrap(title: string, body: string): string {
  return `<div class="edgespec-static" style="${FONT}"><h3 style="margin:4px 0 8px 0">${esc(title)}</h3>${body}</div>`;
}

export function footprintStaticHtml(footprint: Footprint, maxSources = 15): string {
  const totals = footprint.totals;
  const totalRows = (
    [
      ['image file', totals.image_bytes],
      ['weights', totals.weights_bytes],
      ['image − weights', totals.overhead_bytes],
      ['flash', totals.flash_bytes],
      ['peak RAM', totals.peak_ram_bytes]
    ] as const
  ).map(([label, measured]) => [esc(label), esc(formatExactBytes(measured.value)), esc(measured.how)]);
  totalRows.push([
    'arena',
    esc(formatExactBytes(footprint.arena.bytes)),
    esc(`lower bound ${formatInteger(footprint.arena.lower_bound)} B; ${footprint.arena.how}`)
  ]);
  // weights dominate the image; what is worth reading is everything around them
  const flash = buildSideTree(footprint, 'flash');
  const overhead = buildSideTree(footprint, 'overhead');
  const weights = flash.bytes - overhead.bytes;
  const sources = bytesBySource(overhead);
  const sourceRows = [[esc('weights (all layers)'), esc(formatBytes(weights)), esc(formatShare(weights, flash.bytes))]];
  sources
    .slice(0, maxSources)
    .forEach(entry => sourceRows.push([esc(entry.source), esc(formatBytes(entry.bytes)), esc(formatShare(entry.bytes, flash.bytes))]));
  if (sources.length > maxSources) {
    const rest = sources.slice(maxSources).reduce((sum, entry) => sum + entry.bytes, 0);
    sourceRows.push([esc(`${sources.length - maxSources} more sources`), esc(formatBytes(rest)), esc(formatShare(rest, flash.bytes))]);
  }
  const stack = compareWithReferenceStack(footprint);
  const stackTable = stack
    ? `<h4 style="margin:8px 0 2px 0">Against a generic stack</h4>` +
      table(
        ['', 'bytes', '× image', 'how it was measured'],
        stack.bars.map(bar => [
          esc(bar.name),
          esc(formatBytes(bar.bytes)),
          esc(formatTimes(bar.timesImage)),
          esc(bar.how)
        ]),
        [false, true, true, false]
      )
    : '';
  const svgImage = `<div>${renderFootprintSVG(footprint)}</div>`;
  return wrap(
    `edgespec footprint: ${footprint.model} · ${footprint.target} · ${footprint.dtype}`,
    table(['', 'bytes', 'how it was measured'], totalRows, [false, true, false]) +
      svgImage +
      `<h4 style="margin:8px 0 2px 0">Flash by source</h4>` +
      table(['source', 'bytes', 'share'], sourceRows, [false, true, true]) +
      stackTable
  );
}

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
