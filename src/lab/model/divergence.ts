/** divergence.json as the run view's Layers section shows it: rows, the first divergent layer, plot points. Pure, no DOM. */
import type { DivergenceLayer, DivergenceReport } from '../../common/types';
import { formatFloat, formatShape } from '../../common/report/format';
import type { Tone } from './runSummary';

export interface LayerRow {
  /** Position in `report.layers` (what a click selects). */
  position: number;
  index: number;
  step: number;
  module: string;
  op: string;
  shape: string;
  dtype: DivergenceLayer['dtype'];
  compared: boolean;
  why: string | null;
  maxAbs: string;
  relative: string;
  cosine: string;
  /** int8 rows: the error in quantization steps; '' for float rows. */
  quantSteps: string;
  /** true/false when compared against a tolerance; null when not judged. */
  within: boolean | null;
  first: boolean;
}

/** What the error of a row is measured in: relative error for float32, quantization steps for int8. */
export type ErrorUnit = 'relative' | 'quant_steps';

/** The position in `layers` of the first layer over its tolerance, or null when every compared layer is within it. */
export function firstDivergentPosition(report: DivergenceReport): number | null {
  const named = report.first_divergent;
  if (named !== null && Number.isInteger(named) && named >= 0 && named < report.layers.length) {
    return named;
  }
  const found = report.layers.findIndex(layer => layer.compared && layer.within_tolerance === false);
  return found >= 0 ? found : null;
}

/** Cosines near 1 say how near: 0.99999994 → "1 − 6.00e-8" (toFixed would round it to 1). */
export function formatCosine(cosine: number | undefined): string {
  if (cosine === undefined || cosine === null) {
    return '—';
  }
  if (cosine === 1) {
    return '1';
  }
  return cosine > 0.999 && cosine < 1 ? `1 − ${formatFloat(1 - cosine)}` : cosine.toFixed(4);
}

function optionalFloat(value: number | undefined): string {
  return value === undefined || value === null ? '—' : formatFloat(value);
}

export function layerRows(report: DivergenceReport): LayerRow[] {
  const first = firstDivergentPosition(report);
  return report.layers.map((layer, position) => ({
    position,
    index: layer.index,
    step: layer.step,
    module: layer.module,
    op: layer.op,
    shape: formatShape(layer.shape),
    dtype: layer.dtype,
    compared: layer.compared,
    why: layer.compared ? null : layer.why ?? 'not compared',
    maxAbs: optionalFloat(layer.max_abs_error),
    relative: optionalFloat(layer.max_rel_error),
    cosine: formatCosine(layer.cosine),
    quantSteps: layer.dtype === 'int8' ? optionalFloat(layer.quant_steps) : '',
    within: layer.compared && typeof layer.within_tolerance === 'boolean' ? layer.within_tolerance : null,
    first: position === first
  }));
}

/** The error and tolerance a layer is plotted with, in its own unit (tolerance_unit, else by dtype). */
export function layerError(layer: DivergenceLayer): { unit: ErrorUnit; value: number | null; tolerance: number | null } {
  const unit: ErrorUnit = layer.tolerance_unit ?? (layer.dtype === 'int8' ? 'quant_steps' : 'relative');
  const raw = unit === 'quant_steps' ? layer.quant_steps : layer.max_rel_error;
  const value = layer.compared && typeof raw === 'number' && Number.isFinite(raw) ? raw : null;
  const tolerance = typeof layer.tolerance === 'number' && Number.isFinite(layer.tolerance) ? layer.tolerance : null;
  return { unit, value, tolerance };
}

export interface PlotPoint {
  position: number;
  index: number;
  /** The error in the plot's unit. */
  error: number;
  /** Where it is drawn: zero errors at the plot's floor. */
  value: number;
  tolerance: number | null;
  within: boolean | null;
  first: boolean;
  label: string;
}

export interface ErrorPlot {
  unit: ErrorUnit;
  points: PlotPoint[];
  /** The tolerance when every layer shares one (drawn as a line), else null (each point carries its own). */
  tolerance: number | null;
  /** y domain for a log scale: positive, spanning every point and the tolerance. */
  domain: [number, number];
  depth: [number, number];
}

/**
 * The unit the plot shows: the one most compared layers are judged in, so the tolerance line
 * means something (an int8 .tflite against its own integers: quantization steps; an image
 * quantized by edgespec against the float framework: relative error).
 */
export function plotUnit(report: DivergenceReport): ErrorUnit {
  const units = report.layers.filter(layer => layer.compared).map(layer => layerError(layer).unit);
  const steps = units.filter(unit => unit === 'quant_steps').length;
  if (units.length === 0) {
    return report.dtype === 'int8' ? 'quant_steps' : 'relative';
  }
  return steps * 2 > units.length ? 'quant_steps' : 'relative';
}

/** Points of the error-against-depth plot, in the unit most layers are judged in (see plotUnit). */
export function errorPlot(report: DivergenceReport): ErrorPlot {
  const first = firstDivergentPosition(report);
  const unit = plotUnit(report);
  const measured = report.layers
    .map((layer, position) => ({ layer, position, error: layerError(layer) }))
    .filter(entry => entry.error.unit === unit && entry.error.value !== null);
  const positive = measured.map(entry => entry.error.value as number).filter(value => value > 0);
  const tolerances = [...new Set(measured.map(entry => entry.error.tolerance).filter((t): t is number => t !== null && t > 0))];
  const smallest = Math.min(...positive, ...tolerances);
  const largest = Math.max(...positive, ...tolerances);
  const floor = Number.isFinite(smallest) ? smallest / 10 : unit === 'relative' ? 1e-9 : 1e-3;
  const ceiling = Number.isFinite(largest) ? largest * 2 : floor * 100;
  const points = measured.map(({ layer, position, error }) => ({
    position,
    index: layer.index,
    error: error.value as number,
    value: Math.max(error.value as number, floor),
    tolerance: error.tolerance,
    within: typeof layer.within_tolerance === 'boolean' ? layer.within_tolerance : null,
    first: position === first,
    label: `#${layer.index} ${layer.op} ${layer.module}`.trim()
  }));
  const indices = report.layers.map(layer => layer.index);
  return {
    unit,
    points,
    tolerance: tolerances.length === 1 ? tolerances[0] : null,
    domain: [floor, Math.max(ceiling, floor * 10)],
    depth: indices.length ? [Math.min(...indices), Math.max(...indices)] : [0, 1]
  };
}

export interface DivergenceVerdict {
  tone: Tone;
  title: string;
  detail: string;
}

export function divergenceVerdict(report: DivergenceReport): DivergenceVerdict {
  const compared = report.layers.filter(layer => layer.compared).length;
  const skipped = report.layers.length - compared;
  const counted = `${compared} of ${report.layers.length} layers compared with ${report.framework}` + (skipped ? ` (${skipped} without a framework value)` : '');
  const first = firstDivergentPosition(report);
  if (report.status === 'diverges' && first !== null) {
    const layer = report.layers[first];
    return {
      tone: 'bad',
      title: `Layer #${layer.index} diverges first: ${layer.op}${layer.module ? ` in ${layer.module}` : ''}`,
      detail: `${counted}; ${describeError(layer)}${layer.source ? `; source ${layer.source}` : ''}`
    };
  }
  if (report.status === 'diverges') {
    return { tone: 'bad', title: 'The image diverges from the framework', detail: counted };
  }
  return { tone: 'good', title: 'Every compared layer is within its tolerance', detail: counted };
}

/** "relative error 3.2e-2 > tolerance 1e-4" / "4 quantization steps > tolerance 1". */
export function describeError(layer: DivergenceLayer): string {
  const { unit, value, tolerance } = layerError(layer);
  if (value === null) {
    return layer.why ?? 'not compared';
  }
  const what = unit === 'quant_steps' ? `${formatFloat(value)} quantization steps` : `relative error ${formatFloat(value)}`;
  if (tolerance === null) {
    return what;
  }
  const over = layer.within_tolerance === false;
  return `${what} ${over ? '>' : '≤'} tolerance ${formatFloat(tolerance)}`;
}

export interface LayerDetail {
  facts: [string, string][];
  attributes: [string, string][];
  values: { index: number; image: string; framework: string; difference: string; largest: boolean }[];
}

/** A value side by side with its counterpart: enough digits that a difference in the 7th shows. */
function preciseValue(value: number): string {
  return Number.isFinite(value) ? String(Number(value.toPrecision(8))) : String(value);
}

function attributeText(value: unknown): string {
  if (typeof value === 'string') {
    return value;
  }
  const text = JSON.stringify(value);
  return text === undefined ? String(value) : text;
}

/** Everything the detail panel shows of one layer: op, shapes, module, source, attributes and values side by side. */
export function layerDetail(layer: DivergenceLayer): LayerDetail {
  const facts: [string, string][] = [
    ['op', `${layer.op} (kernel ${layer.kernel})`],
    ['node', layer.node],
    ['module', layer.module || '—'],
    ['source', layer.source ?? 'not recorded by capture'],
    ['framework ops', layer.framework_ops.join(', ') || '—'],
    ['output', `${layer.tensor}${layer.graph_tensor && layer.graph_tensor !== layer.tensor ? ` (graph tensor ${layer.graph_tensor})` : ''}`],
    ['shape', `${formatShape(layer.shape)} ${layer.dtype}`],
    ['error', describeError(layer)]
  ];
  if (layer.compared) {
    facts.push(['max abs error', optionalFloat(layer.max_abs_error)], ['max |framework|', optionalFloat(layer.max_abs_reference)]);
    if (layer.cosine !== undefined) {
      facts.push(['cosine', formatCosine(layer.cosine)]);
    }
  }
  const differences = (layer.values ?? []).map(value => Math.abs(value.image - value.framework));
  const largest = Math.max(...differences);
  return {
    facts,
    attributes: Object.entries(layer.attrs ?? {}).map(([name, value]) => [name, attributeText(value)]),
    values: (layer.values ?? []).map((value, i) => ({
      index: value.index,
      image: preciseValue(value.image),
      framework: preciseValue(value.framework),
      difference: formatFloat(value.image - value.framework),
      largest: differences[i] === largest && largest > 0
    }))
  };
}
