/**
 * The footprint as HTML: the fragment a saved notebook shows without the extension, and the
 * standalone footprint.html that `edgespec build` writes beside the image (inline styles,
 * the SVG and the data; no script runs and nothing is fetched). Pure, no DOM.
 */
import type { Footprint } from '../types';
import { buildSideTree, bytesBySource } from './footprintTree';
import { escapeXml as esc, formatBytes, formatExactBytes, formatInteger, formatShare } from './format';
import { renderFootprintSVG } from './footprintSvg';
import { compareWithReferenceStack, formatTimes } from './referenceStack';
import { linuxVmRows } from './linuxVm';

const FONT = 'font-family:var(--jp-ui-font-family,sans-serif);font-size:13px;color:var(--jp-ui-font-color1,#222)';
const TABLE = 'border-collapse:collapse;margin:6px 0 12px 0';
const CELL = 'padding:2px 10px;border-bottom:1px solid var(--jp-border-color2,#ddd);text-align:left';
const NUM = `${CELL};text-align:right;font-variant-numeric:tabular-nums`;

/** An HTML table; `rows` are HTML already escaped. */
export function htmlTable(headers: string[], rows: string[][], numeric: boolean[] = []): string {
  const head = headers.map((header, i) => `<th style="${numeric[i] ? NUM : CELL}">${esc(header)}</th>`).join('');
  const body = rows
    .map(row => `<tr>${row.map((cell, i) => `<td style="${numeric[i] ? NUM : CELL}">${cell}</td>`).join('')}</tr>`)
    .join('');
  return `<table style="${TABLE}"><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
}

/** A titled report block, in the notebook's font. */
export function htmlSection(title: string, body: string): string {
  return `<div class="edgespec-static" style="${FONT}"><h3 style="margin:4px 0 8px 0">${esc(title)}</h3>${body}</div>`;
}

/** `chartId` names the element holding the chart (the standalone report's is "chart"). */
export function footprintStaticHtml(footprint: Footprint, maxSources = 15, chartId?: string): string {
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
      htmlTable(
        ['', 'bytes', '× image', 'how it was measured'],
        stack.bars.map(bar => [esc(bar.name), esc(formatBytes(bar.bytes)), esc(formatTimes(bar.timesImage)), esc(bar.how)]),
        [false, true, true, false]
      )
    : '';
  const vmRows = linuxVmRows(footprint);
  const vmTable = vmRows.length
    ? `<h4 style="margin:8px 0 2px 0">What boots (linux-vm)</h4>` +
      htmlTable(['', 'bytes', 'how it was measured'], vmRows.map(r => [esc(r.label), esc(formatExactBytes(r.bytes)), esc(r.how)]), [false, true, false])
    : '';
  const svgImage = `<div${chartId ? ` id="${esc(chartId)}"` : ''}>${renderFootprintSVG(footprint)}</div>`;
  return htmlSection(
    `edgespec footprint: ${footprint.model} · ${footprint.target} · ${footprint.dtype}`,
    htmlTable(['', 'bytes', 'how it was measured'], totalRows, [false, true, false]) +
      vmTable +
      svgImage +
      `<h4 style="margin:8px 0 2px 0">Flash by source</h4>` +
      htmlTable(['source', 'bytes', 'share'], sourceRows, [false, true, true]) +
      stackTable
  );
}

/**
 * footprint.json as data inside a script element: "<" only occurs inside JSON strings,
 * where \u003c means the same, so no "</script>" or "<!--" in a name can end the element.
 */
function embeddedJson(footprint: Footprint): string {
  return JSON.stringify(footprint).replace(/</g, '\\u003c');
}

/** footprint.html: one file that opens from disk with no server and no network. */
export function footprintReportDocument(footprint: Footprint): string {
  return (
    '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">' +
    '<meta name="viewport" content="width=device-width, initial-scale=1">' +
    `<title>${esc(`edgespec footprint: ${footprint.model} · ${footprint.target} · ${footprint.dtype}`)}</title></head>\n` +
    `<body style="margin:16px;background:#fff">${footprintStaticHtml(footprint, 40, 'chart')}\n` +
    '<p style="font:12px sans-serif;color:#666">The measured footprint.json of this build is embedded below (script footprint-data).</p>\n' +
    `<script id="footprint-data" type="application/json">${embeddedJson(footprint)}</script>\n` +
    '</body></html>\n'
  );
}
