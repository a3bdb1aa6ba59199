/** run.json's stream (many inputs through one boot) as the run view shows it: per-input rows, a histogram of errors, the summary. Pure, no DOM. */
import type { RunStream, RunStreamStep } from '../../common/types';
import type { ProfileBar } from './profile';

export interface StreamRow {
  index: number;
  input: string;
  status: RunStreamStep['status'];
  /** max abs error / the step's tolerance: ≤ 1 is within the bar; null when the step was not compared. */
  errorToBar: number | null;
  maxAbsError: number | null;
  wallMs: number;
  /** es_model_invoke's count from the OUTPUT frame: guest instructions, or host nanoseconds. */
  invoke: { value: number; unit: 'instructions' | 'ns' } | null;
  error?: string;
}

export function streamRows(stream: RunStream): StreamRow[] {
  return stream.steps.map(step => {
    const a = step.agreement;
    const errorToBar = a ? (a.tolerance > 0 ? a.max_abs_error / a.tolerance : a.max_abs_error === 0 ? 0 : Infinity) : null;
    const invoke =
      step.guest_instructions !== undefined ? { value: step.guest_instructions, unit: 'instructions' as const } : step.invoke_ns !== undefined ? { value: step.invoke_ns, unit: 'ns' as const } : null;
    return { index: step.index, input: step.input, status: step.status, errorToBar, maxAbsError: a ? a.max_abs_error : null, wallMs: step.wall_ms, invoke, ...(step.error ? { error: step.error } : {}) };
  });
}

/** The histogram's bins of error / bar: decades up to the bar, then over it. */
const BINS: { label: string; detail: string; test: (ratio: number) => boolean }[] = [
  { label: 'exact', detail: 'max abs error 0', test: r => r === 0 },
  { label: '≤ 0.001 × bar', detail: 'error / tolerance in (0, 0.001]', test: r => r > 0 && r <= 1e-3 },
  { label: '≤ 0.01 × bar', detail: 'error / tolerance in (0.001, 0.01]', test: r => r > 1e-3 && r <= 1e-2 },
  { label: '≤ 0.1 × bar', detail: 'error / tolerance in (0.01, 0.1]', test: r => r > 1e-2 && r <= 1e-1 },
  { label: '≤ bar', detail: 'error / tolerance in (0.1, 1]: within the bar', test: r => r > 1e-1 && r <= 1 },
  { label: 'over the bar', detail: 'error / tolerance above 1: a mismatch', test: r => r > 1 }
];

/** How many compared inputs fall in each bin of error / tolerance (every bin listed, in order); null when no step was compared. */
export function errorHistogram(stream: RunStream): ProfileBar[] | null {
  const ratios = streamRows(stream)
    .map(row => row.errorToBar)
    .filter((r): r is number => r !== null);
  if (ratios.length === 0) {
    return null;
  }
  return BINS.map(bin => {
    const count = ratios.filter(bin.test).length;
    return { label: bin.label, detail: bin.detail, count, share: count / ratios.length };
  });
}

export interface StreamSummary {
  verdict: 'ok' | 'mismatch' | 'failed';
  answered: string;
  agreeing: string | null;
  worst: StreamRow | null;
}

export function streamSummary(stream: RunStream): StreamSummary {
  const rows = streamRows(stream);
  const compared = rows.filter(row => row.errorToBar !== null);
  const worst = compared.reduce<StreamRow | null>((w, row) => (w === null || (row.errorToBar ?? 0) > (w.errorToBar ?? 0) ? row : w), null);
  const failed = stream.answered < stream.inputs;
  const mismatch = stream.agreeing !== undefined && stream.agreeing < compared.length;
  return {
    verdict: failed ? 'failed' : mismatch ? 'mismatch' : 'ok',
    answered: `${stream.answered} of ${stream.inputs}`,
    agreeing: stream.agreeing === undefined ? null : `${stream.agreeing} of ${compared.length} compared${stream.expected ? ` (with ${stream.expected})` : ''}`,
    worst
  };
}
