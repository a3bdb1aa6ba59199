import type { RunStream, RunStreamStep } from '../../../src/common/types';
import { errorHistogram, streamRows, streamSummary } from '../../../src/lab/model/stream';

function step(index: number, maxAbsError: number | null, fields: Partial<RunStreamStep> = {}): RunStreamStep {
  const agreement =
    maxAbsError === null
      ? undefined
      : { max_abs_error: maxAbsError, max_rel_error: maxAbsError, max_abs_reference: 1, tolerance: 1e-4, within_tolerance: maxAbsError <= 1e-4, top1_match: true, top5_match: true, top5: [0], reference_top5: [0] };
  return { index, input: `steps.npy[${index}]`, status: maxAbsError !== null && maxAbsError > 1e-4 ? 'mismatch' : 'ok', wall_ms: 10 + index, ...(agreement ? { agreement } : {}), ...fields };
}

function stream(steps: RunStreamStep[], fields: Partial<RunStream> = {}): RunStream {
  return { port: 'a FIFO', ready_ms: 25, inputs: steps.length, answered: steps.length, agreeing: steps.filter(s => s.status === 'ok').length, expected: 'exp.npy', steps, ...fields };
}

describe('a streamed run', () => {
  it('gives each input its error against the bar and its invoke count', () => {
    const rows = streamRows(stream([step(0, 0, { invoke_ns: 1200 }), step(1, 5e-5, { guest_instructions: 99 })]));
    expect(rows.map(r => [r.index, r.errorToBar, r.invoke])).toEqual([
      [0, 0, { value: 1200, unit: 'ns' }],
      [1, 0.5, { value: 99, unit: 'instructions' }]
    ]);
  });

  it('counts the compared inputs per band of error / bar, every band listed', () => {
    const bars = errorHistogram(stream([step(0, 0), step(1, 5e-8), step(2, 5e-6), step(3, 5e-5), step(4, 2e-4), step(5, 3e-4)]))!;
    expect(bars.map(b => [b.label, b.count])).toEqual([
      ['exact', 1],
      ['≤ 0.001 × bar', 1],
      ['≤ 0.01 × bar', 0],
      ['≤ 0.1 × bar', 1],
      ['≤ bar', 1],
      ['over the bar', 2]
    ]);
    expect(bars.reduce((sum, b) => sum + b.share, 0)).toBeCloseTo(1);
  });

  it('has no histogram when nothing was compared, and says so in the summary', () => {
    const s = stream([step(0, null), step(1, null)], { agreeing: undefined, expected: undefined });
    expect(errorHistogram(s)).toBeNull();
    expect(streamSummary(s)).toEqual({ verdict: 'ok', answered: '2 of 2', agreeing: null, worst: null });
  });

  it('calls a run with a mismatch or an unanswered input by its worst', () => {
    const mismatched = streamSummary(stream([step(0, 1e-6), step(1, 3e-4), step(2, 2e-4)]));
    expect([mismatched.verdict, mismatched.agreeing, mismatched.worst?.index]).toEqual(['mismatch', '1 of 3 compared (with exp.npy)', 1]);
    const cut = streamSummary(stream([step(0, 0), step(1, null, { status: 'timeout', error: 'no answer in 60 s' })], { answered: 1 }));
    expect([cut.verdict, cut.answered]).toEqual(['failed', '1 of 2']);
  });
});
