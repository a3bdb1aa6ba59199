import { InvalidArgumentError } from 'commander';
import { runBuild } from '../run/runBuild';
import { runFailureError } from '../run/runFailure';
import { formatRunSummary } from '../run/summary';
import type { RegisterCommand } from './context';

/** One day: no model edgespec builds computes longer, and the guest's timers stay far from their limits. */
export const MAX_TIMEOUT_S = 24 * 60 * 60;

export function parseTimeout(value: string): number {
  const seconds = Number(value);
  if (value.trim() === '' || !Number.isFinite(seconds) || seconds <= 0) throw new InvalidArgumentError('give the timeout as a positive number of seconds, e.g. --timeout 120');
  if (seconds < 0.001) throw new InvalidArgumentError(`${value} s is shorter than a millisecond; give the timeout in seconds, e.g. --timeout 120`);
  if (seconds > MAX_TIMEOUT_S) throw new InvalidArgumentError(`${value} s is more than the ${MAX_TIMEOUT_S} s (one day) a run may take; give the timeout in seconds, e.g. --timeout 3600`);
  return seconds;
}

/** `edgespec run BUILD_DIR`: runs the image, compares with the reference, writes run.json. */
export const registerRun: RegisterCommand = (program, ctx) => {
  program
    .command('run')
    .description("boot a built image (qemu-virt in QEMU, linux under qemu-aarch64, or the host executable), compare its outputs with the bundle's reference and write run.json")
    .argument('<build-dir>', 'the directory edgespec build wrote (it holds build.json)')
    .option('--input <file>', "input instead of the bundle's reference: .npy, .safetensors, or the raw bytes of the input (.bin)")
    .option('--timeout <seconds>', 'stop the guest after this long (default: 60 s plus 1 s per MiB of image)', parseTimeout)
    .option('--json', 'print JSON-line events')
    .action(async (buildDir: string, opts: { input?: string; timeout?: number; json?: boolean }) => {
      const reporter = ctx.reporter(opts);
      const outcome = await runBuild({ buildDir, inputFile: opts.input, timeoutS: opts.timeout, reporter });
      reporter.result('run', outcome.report, () => formatRunSummary(outcome.report, outcome.runJson));
      if (outcome.report.status !== 'ok') throw runFailureError(outcome);
    });
};
