import { RunReport } from '../../common/types';

function number(value: number): string {
  return value === 0 ? '0' : value.toExponential(2);
}

/** The human summary of a streamed run: how many inputs were answered and agreed, the worst step, timings. */
export function formatStreamSummary(report: RunReport, runJsonPath: string): string {
  const stream = report.stream!;
  const lines = [`run ${report.model} on ${report.target}: ${stream.inputs} inputs through one boot: ${report.status}`];
  const row = (label: string, text: string) => lines.push(`  ${label.padEnd(13)}${text}`);
  row('inputs', report.input);
  row('port', stream.port);
  row('answered', `${stream.answered} of ${stream.inputs}`);
  if (stream.agreeing !== undefined) {
    const compared = stream.steps.filter(s => s.agreement).length;
    row('agreeing', `${stream.agreeing} of ${compared} compared (with ${stream.expected})`);
    if (report.agreement) row('worst step', `max abs error ${number(report.agreement.max_abs_error)} (tolerance ${number(report.agreement.tolerance)})`);
  }
  const bad = stream.steps.filter(s => s.status !== 'ok').slice(0, 5);
  for (const s of bad) row(`input ${s.index}`, `${s.status}${s.error ? `: ${s.error}` : ''}`);
  const walls = stream.steps.filter(s => s.status === 'ok' || s.status === 'mismatch').map(s => s.wall_ms);
  if (walls.length) row('per input', `${(walls.reduce((a, b) => a + b, 0) / walls.length).toFixed(1)} ms mean host round trip (frame out, inference, frame back)`);
  row('ready after', `${(stream.ready_ms / 1000).toFixed(3)} s`);
  row('wall time', `${(report.wall_ms.value / 1000).toFixed(3)} s (${report.wall_ms.how})`);
  if (report.error) row('error', report.error);
  row('report', runJsonPath);
  return lines.join('\n');
}
