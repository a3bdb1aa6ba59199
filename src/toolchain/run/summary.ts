import { RunReport } from '../../common/types';

const STATUS_TEXT: Record<RunReport['status'], string> = {
  ok: 'ok',
  mismatch: 'MISMATCH: the outputs disagree with the reference',
  fault: 'FAULT in the guest',
  timeout: 'TIMEOUT: the guest was stopped',
  error: 'ERROR'
};

function number(value: number): string {
  return value === 0 ? '0' : value.toExponential(2);
}

/** The human summary of a run: status, agreement, guest instructions, wall time. */
export function formatRunSummary(report: RunReport, runJsonPath: string): string {
  const lines = [`run ${report.model} on ${report.target}: ${STATUS_TEXT[report.status]}`];
  const row = (label: string, text: string) => lines.push(`  ${label.padEnd(13)}${text}`);
  row('input', report.input);
  if (report.agreement) {
    const a = report.agreement;
    row(
      'agreement',
      `max abs error ${number(a.max_abs_error)} ${a.within_tolerance ? '<=' : '>'} tolerance ${number(a.tolerance)} (${number(a.tolerance / Math.max(a.max_abs_reference, Number.MIN_VALUE))} x max|reference| ${number(a.max_abs_reference)}), max rel error ${number(a.max_rel_error)}`
    );
    row('top-k', `top-1 ${a.top1_match ? 'same' : 'DIFFERENT'}, top-5 ${a.top5_match ? 'same' : 'DIFFERENT'} (${a.top5.join(', ')} vs reference ${a.reference_top5.join(', ')})`);
  } else if (report.status === 'ok' || report.status === 'mismatch') {
    row('agreement', 'not compared (the input is not the bundle reference input)');
  }
  const nonFinite = report.non_finite;
  if (nonFinite && (nonFinite.inputs > 0 || (nonFinite.outputs ?? 0) > 0)) {
    const outputs = nonFinite.outputs === undefined ? 'outputs not read' : `outputs ${nonFinite.outputs}`;
    row('non-finite', `NaN or infinite values: input ${nonFinite.inputs}, ${outputs}`);
  }
  if (report.fault) {
    row('fault', `${report.fault.exception_class} at ${report.fault.address} in ${report.fault.symbol} (ESR ${report.fault.esr})`);
  }
  if (report.error && !report.fault) row('error', report.error);
  if (report.guest_instructions) row('instructions', `${report.guest_instructions.value.toLocaleString('en-US')} (${report.guest_instructions.how})`);
  row('wall time', `${(report.wall_ms.value / 1000).toFixed(3)} s (${report.wall_ms.how})`);
  if (report.exit_code !== null) row('exit code', String(report.exit_code));
  row('report', runJsonPath);
  return lines.join('\n');
}
