import { InvalidArgumentError } from 'commander';
import { EdgespecError } from '../errors';
import { runBuild } from '../run/runBuild';
import { DEFAULT_BAUD } from '../run/serialPort';
import { runStream } from '../run/streamRun';
import { formatStreamSummary } from '../run/streamSummary';
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

export function parseBaud(value: string): number {
  const baud = Number(value);
  if (!Number.isInteger(baud) || baud < 50 || baud > 4_000_000) throw new InvalidArgumentError(`give the baud rate as a whole number, e.g. --baud 115200 (got ${value})`);
  return baud;
}

function parsePort(value: string): 'semihost' | 'uart' {
  if (value !== 'semihost' && value !== 'uart') throw new InvalidArgumentError(`--port is semihost or uart, not ${value}`);
  return value;
}

/** `edgespec run BUILD_DIR`: runs the image, compares with the reference, writes run.json. */
export const registerRun: RegisterCommand = (program, ctx) => {
  program
    .command('run')
    .description("boot a built image (qemu-virt in QEMU, linux under qemu-aarch64, or the host executable), compare its outputs with the bundle's reference and write run.json")
    .argument('<build-dir>', 'the directory edgespec build wrote (it holds build.json)')
    .option('--input <file>', "input instead of the bundle's reference: .npy, .safetensors, or the raw bytes of the input (.bin)")
    .option('--timeout <seconds>', 'stop the guest after this long (default: 60 s plus 1 s per MiB of image; with --inputs, the wait for each input, default 60 s)', parseTimeout)
    .option('--inputs <dir-or-npy>', 'stream many inputs through one boot in serve mode: a .npy whose first axis is the step, or a directory of one .npy/.safetensors/.bin per step (name order); writes run-outputs/NNNN.npy and run.json with a stream section')
    .option('--expected <dir-or-npy>', 'with --inputs: the expected outputs, laid out like --inputs, to compare each step with')
    .option('--serial <device>', "talk to a board on this serial device (e.g. /dev/ttyUSB0) instead of booting the image here, with the inputs of --inputs, or else --input or the bundle's reference input; start, then power on or reset the board")
    .option('--baud <rate>', `with --serial: the line's baud rate (default ${DEFAULT_BAUD})`, parseBaud)
    .option('--port <semihost|uart>', 'with --inputs on qemu-virt: frames through semihosting FIFOs (default, fast) or the PL011 UART as on a board', parsePort)
    .option('--json', 'print JSON-line events')
    .action(async (buildDir: string, opts: { input?: string; inputs?: string; expected?: string; serial?: string; baud?: number; port?: 'semihost' | 'uart'; timeout?: number; json?: boolean }) => {
      const reporter = ctx.reporter(opts);
      if (opts.inputs !== undefined || opts.serial !== undefined) {
        if (opts.input !== undefined && opts.inputs !== undefined) throw new EdgespecError('options-invalid', '--input (one run) and --inputs (a stream) were both given', 'keep one of them');
        if (opts.expected !== undefined && opts.inputs === undefined) throw new EdgespecError('options-invalid', '--expected goes with --inputs, which is missing', 'add --inputs DIR_OR_NPY, or drop --expected: one input is compared with the bundle\'s reference output');
        const outcome = await runStream({ buildDir, inputs: opts.inputs, input: opts.input, expected: opts.expected, serial: opts.serial, baud: opts.baud, port: opts.port, timeoutS: opts.timeout, reporter });
        reporter.result('run', outcome.report, () => formatStreamSummary(outcome.report, outcome.runJson));
        if (outcome.report.status !== 'ok') throw runFailureError(outcome);
        return;
      }
      if (opts.expected !== undefined || opts.baud !== undefined || opts.port !== undefined) throw new EdgespecError('options-invalid', '--expected, --baud and --port go with --inputs, which is missing', 'add --inputs DIR_OR_NPY, or drop them for a run of one input');
      const outcome = await runBuild({ buildDir, inputFile: opts.input, timeoutS: opts.timeout, reporter });
      reporter.result('run', outcome.report, () => formatRunSummary(outcome.report, outcome.runJson));
      if (outcome.report.status !== 'ok') throw runFailureError(outcome);
    });
};
