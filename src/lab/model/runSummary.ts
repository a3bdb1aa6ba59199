/** run.json as the run view shows it: a verdict, agreement rows, top-5, numbers. Pure, no DOM. */
import type { RunReport } from '../../common/types';
import { formatCount, formatFloat, formatMilliseconds, formatShape } from '../../common/report/format';

export type Tone = 'good' | 'bad' | 'warn';

export interface Verdict {
  tone: Tone;
  title: string;
  detail: string;
}

export function runVerdict(report: RunReport): Verdict {
  const agreement = report.agreement;
  switch (report.status) {
    case 'ok':
      if (agreement) {
        return {
          tone: agreement.within_tolerance ? 'good' : 'warn',
          title: agreement.within_tolerance
            ? 'The image agrees with the framework'
            : 'Within the run, but outside the tolerance',
          detail:
            `max abs error ${formatFloat(agreement.max_abs_error)} ` +
            `${agreement.within_tolerance ? '≤' : '>'} tolerance ${formatFloat(agreement.tolerance)}` +
            `, top-1 ${agreement.top1_match ? 'matches' : 'differs'}` +
            `, top-5 ${agreement.top5_match ? 'matches' : 'differs'}`
        };
      }
      return {
        tone: 'good',
        title: 'The image ran to completion',
        detail: 'No reference comparison: the input was not the bundle\'s reference input.'
      };
    case 'mismatch':
      return {
        tone: 'bad',
        title: 'The image disagrees with the framework',
        detail: agreement
          ? `max abs error ${formatFloat(agreement.max_abs_error)} > tolerance ${formatFloat(agreement.tolerance)}`
          : report.error ?? 'The outputs differ from the reference.'
      };
    case 'fault':
      return {
        tone: 'bad',
        title: 'The guest faulted',
        detail: report.fault
          ? `${report.fault.exception_class} at ${report.fault.address} in ${report.fault.symbol} (ESR ${report.fault.esr})`
          : report.error ?? 'See the console below.'
      };
    case 'timeout':
      return {
        tone: 'bad',
        title: 'The guest did not finish in time',
        detail: report.error ?? 'QEMU was stopped after the timeout; see the console below.'
      };
    default:
      return { tone: 'bad', title: 'The run failed', detail: report.error ?? 'See the console below.' };
  }
}

export interface AgreementRow {
  label: string;
  value: string;
  ok: boolean | null;
  detail?: string;
}

/** "1e-4 × " (fp32) or "5e-2 × " (int8): the factor `edgespec run` judged with, from the report itself. */
function toleranceFactor(agreement: NonNullable<RunReport['agreement']>): string {
  const factor = agreement.tolerance / agreement.max_abs_reference;
  return Number.isFinite(factor) && factor > 0 ? `${factor.toExponential(0)} × ` : '';
}

export function agreementRows(report: RunReport): AgreementRow[] {
  const agreement = report.agreement;
  if (!agreement) {
    return [];
  }
  return [
    {
      label: 'max abs error',
      value: formatFloat(agreement.max_abs_error),
      ok: agreement.within_tolerance,
      detail: `tolerance ${formatFloat(agreement.tolerance)} = ${toleranceFactor(agreement)}max|reference| (${formatFloat(agreement.max_abs_reference)})`
    },
    { label: 'max rel error', value: formatFloat(agreement.max_rel_error), ok: null },
    { label: 'top-1', value: agreement.top1_match ? 'same class' : 'different class', ok: agreement.top1_match },
    { label: 'top-5', value: agreement.top5_match ? 'same classes' : 'different classes', ok: agreement.top5_match }
  ];
}

export interface TopRow {
  rank: number;
  guest: number | null;
  reference: number | null;
  /** The guest's class at this rank is the reference's class at this rank. */
  sameRank: boolean;
  /** The guest's class is somewhere in the reference's top 5. */
  inReference: boolean;
}

export function topFiveRows(report: RunReport): TopRow[] {
  const agreement = report.agreement;
  if (!agreement) {
    return [];
  }
  const length = Math.max(agreement.top5.length, agreement.reference_top5.length);
  return Array.from({ length }, (_, index) => {
    const guest = agreement.top5[index] ?? null;
    const reference = agreement.reference_top5[index] ?? null;
    return {
      rank: index + 1,
      guest,
      reference,
      sameRank: guest !== null && guest === reference,
      inReference: guest !== null && agreement.reference_top5.includes(guest)
    };
  });
}

export interface Measurement {
  label: string;
  value: string;
  how: string;
}

export function measurements(report: RunReport): Measurement[] {
  const rows: Measurement[] = [
    { label: 'wall time', value: formatMilliseconds(report.wall_ms.value), how: report.wall_ms.how }
  ];
  if (report.guest_instructions) {
    rows.push({
      label: 'guest instructions',
      value: formatCount(report.guest_instructions.value),
      how: report.guest_instructions.how
    });
  }
  rows.push({
    label: 'exit code',
    value: report.exit_code === null ? 'none (killed)' : String(report.exit_code),
    how: 'exit status of the guest'
  });
  return rows;
}

export interface OutputRow {
  name: string;
  shape: string;
  dtype: string;
  first: string;
  file: string;
}

export function outputRows(report: RunReport, count = 6): OutputRow[] {
  return report.outputs.map(output => ({
    name: output.name,
    shape: formatShape(output.shape),
    dtype: output.dtype,
    first:
      output.first.slice(0, count).map(formatFloat).join(', ') +
      (output.first.length > count || output.shape.reduce((a, b) => a * b, 1) > count ? ', …' : ''),
    file: output.file
  }));
}
