import * as path from 'path';
import { EdgespecError } from '../errors';
import { OUTPUTS_DIR, RunOutcome } from './runBuild';

/** The error the CLI reports after writing run.json for a run that did not pass. */
export function runFailureError(outcome: RunOutcome): EdgespecError {
  const r = outcome.report;
  const details = { status: r.status, run_json: outcome.runJson };
  switch (r.status) {
    case 'timeout':
      return new EdgespecError('run-timeout', r.error!, 'give a larger model more time with --timeout SECONDS; if the console in run.json stops early, the guest hangs', details);
    case 'fault':
      return new EdgespecError('run-fault', `the guest faulted: ${r.fault!.exception_class} at ${r.fault!.address} in ${r.fault!.symbol}`, `this is a bug in a kernel or the generated model code; the console log is in ${outcome.runJson}`, details);
    case 'mismatch': {
      const a = r.agreement!;
      const why = r.error ?? (a.within_tolerance ? `top-5 ${a.top5.join(',')} differs from the reference's ${a.reference_top5.join(',')}` : `max abs error ${a.max_abs_error.toExponential(3)} > tolerance ${a.tolerance.toExponential(3)}`);
      return new EdgespecError('run-mismatch', `the outputs disagree with the reference: ${why}`, `the outputs are in ${path.join(path.dirname(outcome.runJson), OUTPUTS_DIR)}; a kernel or a graph pass computes a different function than the framework`, details);
    }
    default:
      return new EdgespecError('run-failed', r.error ?? 'the run failed', `see the console log in ${outcome.runJson}`, details);
  }
}
