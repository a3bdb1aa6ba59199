import { promises as fs } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { DType, RunReport } from '../../common/types';
import { requireTool } from '../doctor/tools';
import { EdgespecError } from '../errors';
import { Reporter } from '../events';
import { computeAgreement, INT8_TOLERANCE_SCALE, TOLERANCE_SCALE } from './agreement';
import { writeFileAtomic } from './atomicWrite';
import { readBuildDir, RunnableBuild } from './buildDir';
import { toNumbers } from './dtype';
import { GuestConsole, numberField, parseGuestConsole } from './guestConsole';
import { GuestCommand, hostCommand, INPUT_FILE, OUTPUT_FILE, qemuVirtCommand } from './guestCommand';
import { decodeIoFile, encodeIoFile, IO_KIND_INPUTS, IO_KIND_OUTPUTS } from './ioFile';
import { launch, LaunchResult } from './launch';
import { linuxCommand } from './linuxCommand';
import { readProfile } from './profile';
import { encodeNpy } from './npy';
import { PreparedInput, prepareInput } from './prepareInput';
import { removeOnInterrupt } from '../interrupt';

export interface RunOptions {
  buildDir: string;
  inputFile?: string;
  timeoutS?: number;
  reporter: Reporter;
}

export interface RunOutcome {
  report: RunReport;
  runJson: string;
}

export const RUN_JSON = 'run.json';
export const OUTPUTS_DIR = 'run-outputs';
const CONSOLE_KEEP_BYTES = 64 * 1024;
const RUNNING: Record<RunnableBuild['target'], string> = {
  'qemu-virt': 'booting the image in QEMU',
  host: 'running the host executable',
  linux: 'running the AArch64 executable under qemu-aarch64'
};
const INSTRUCTIONS_HOW = 'cntvct_el0 read by the guest before and after es_model_invoke under -icount shift=0 (one instruction per nanosecond of virtual time)';

/** A guest gets a minute plus a second per MiB of image (larger models compute longer). */
export function defaultTimeoutS(build: RunnableBuild): number {
  return 60 + Math.ceil(build.imageBytes / (1024 * 1024));
}

export async function runBuild(opts: RunOptions): Promise<RunOutcome> {
  const { reporter } = opts;
  reporter.progress('run', 0, 3, 'reading the build and the input');
  const build = await readBuildDir(opts.buildDir);
  const input = await prepareInput(build, opts.inputFile, reporter);
  const timeoutS = opts.timeoutS ?? defaultTimeoutS(build);

  const workDir = await fs.mkdtemp(path.join(tmpdir(), 'edgespec-run-'));
  const forgetWorkDir = removeOnInterrupt(workDir);
  try {
    await fs.writeFile(path.join(workDir, INPUT_FILE), encodeIoFile(IO_KIND_INPUTS, input.tensors));
    const guest = build.target === 'qemu-virt'
      ? qemuVirtCommand(build, (await requireTool('qemu-system-aarch64')).path, workDir)
      : build.target === 'linux'
        ? linuxCommand(build, (await requireTool('qemu-aarch64')).path, workDir)
        : hostCommand(build, workDir);
    reporter.progress('run', 1, 3, `${RUNNING[build.target]} (timeout ${timeoutS} s)`);
    const launched = await launch({ command: guest.command, args: guest.args, cwd: workDir, timeoutMs: timeoutS * 1000 });
    reporter.progress('run', 2, 3, 'reading the outputs');
    const report = await reportRun(build, input, guest, launched, timeoutS, workDir);
    const runJson = path.join(build.dir, RUN_JSON);
    await writeFileAtomic(runJson, JSON.stringify(report, null, 2) + '\n').catch(e => {
      throw new EdgespecError('run-json-unwritable', `cannot write ${runJson}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, 'make the build directory writable, or copy it somewhere writable and run that copy');
    });
    reporter.progress('run', 3, 3, report.status);
    return { report, runJson };
  } finally {
    forgetWorkDir();
    await fs.rm(workDir, { recursive: true, force: true });
  }
}

async function reportRun(build: RunnableBuild, input: PreparedInput, guest: GuestCommand, launched: LaunchResult, timeoutS: number, workDir: string): Promise<RunReport> {
  const parsed = parseGuestConsole(launched.console);
  await fs.rm(path.join(build.dir, OUTPUTS_DIR), { recursive: true, force: true });
  const report: RunReport = {
    format: 'edgespec.run',
    version: 1,
    model: build.model,
    target: build.target,
    dtype: build.dtype,
    status: 'ok',
    exit_code: launched.exitCode,
    outputs: [],
    wall_ms: { value: round(launched.wallMs, 3), how: guest.wallHow },
    console: keepReadable(launched.console),
    input: input.description
  };
  const instructions = numberField(parsed, 'invoke_instructions');
  if (instructions !== undefined) report.guest_instructions = { value: instructions, how: INSTRUCTIONS_HOW };
  if (build.profile) {
    const profile = readProfile(build.profile, launched.console, build.target);
    if (profile) report.profile = profile;
  }

  const failure = guestFailure(launched, parsed, timeoutS);
  if (failure) return { ...report, ...failure };

  let outputs: Buffer[];
  try {
    outputs = decodeIoFile(await fs.readFile(path.join(workDir, OUTPUT_FILE)), IO_KIND_OUTPUTS, build.outputs.map(o => o.bytes));
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'it was not written' : (e as Error).message;
    return { ...report, status: 'error', error: `the run ended with status 0 but ${OUTPUT_FILE} is unusable: ${why}` };
  }
  report.outputs = await saveOutputs(build, outputs);

  if (input.referenceOutputs) {
    const { agreement, nonFinite } = computeAgreement(
      input.referenceOutputs.map((ref, i) => ({
        output: toNumbers(outputs[i], build.outputs[i].dtype),
        reference: toNumbers(ref.data, ref.dtype as DType)
      })),
      build.dtype === 'int8' ? INT8_TOLERANCE_SCALE : TOLERANCE_SCALE
    );
    report.agreement = agreement;
    if (nonFinite > 0) report.error = `${nonFinite} output value${nonFinite === 1 ? ' is' : 's are'} NaN or infinite`;
    const ranksAgree = build.dtype === 'int8' ? agreement.top1_match : agreement.top5_match;
    if (!agreement.within_tolerance || !ranksAgree) report.status = 'mismatch';
  }
  return report;
}

/** The run's failure (timeout, fault, non-zero status), or undefined when the guest finished well. */
function guestFailure(launched: LaunchResult, parsed: GuestConsole, timeoutS: number): Partial<RunReport> | undefined {
  if (launched.spawnError) return { status: 'error', error: `could not start: ${launched.spawnError}` };
  if (launched.timedOut) {
    const last = parsed.fields.status ? '' : ' before reporting a status';
    return { status: 'timeout', error: `the guest did not finish within ${timeoutS} s${last} and was stopped` };
  }
  if (parsed.fault) return { status: 'fault', fault: parsed.fault, error: `the guest faulted: ${parsed.fault.exception_class}` };
  if (launched.exitCode !== 0) {
    const how = launched.exitCode === null ? `was killed by ${launched.signal}` : `exited with status ${launched.exitCode}`;
    const said = parsed.errors.length ? `: ${parsed.errors.join('; ')}` : lastLines(launched.console);
    return { status: 'error', error: `the run ${how}${said}` };
  }
  if (parsed.fields.status !== 'ok') return { status: 'error', error: 'the run exited with status 0 but never printed "edgespec: status=ok"' };
  return undefined;
}

async function saveOutputs(build: RunnableBuild, outputs: Buffer[]): Promise<RunReport['outputs']> {
  const dir = path.join(build.dir, OUTPUTS_DIR);
  await fs.mkdir(dir, { recursive: true });
  return Promise.all(
    build.outputs.map(async (spec, i) => {
      const file = path.join(OUTPUTS_DIR, `${i}-${spec.name.replace(/[^A-Za-z0-9_.-]/g, '_')}.npy`);
      await writeFileAtomic(path.join(build.dir, file), encodeNpy({ dtype: spec.dtype, shape: spec.shape, data: outputs[i] }));
      const values = toNumbers(outputs[i].subarray(0, 8 * 8), spec.dtype);
      return { name: spec.name, shape: spec.shape, dtype: spec.dtype, file, first: Array.from(values.slice(0, 8)) };
    })
  );
}

function lastLines(consoleText: string): string {
  const lines = consoleText.trim().split('\n').filter(l => l.trim()).slice(-3);
  return lines.length ? `; the console ends with: ${lines.join(' | ')}` : ' and printed nothing';
}

/** A console longer than the limit keeps its beginning and its end. */
function keepReadable(consoleText: string): string {
  if (consoleText.length <= CONSOLE_KEEP_BYTES) return consoleText;
  const half = CONSOLE_KEEP_BYTES / 2;
  return `${consoleText.slice(0, half)}\n[... ${consoleText.length - CONSOLE_KEEP_BYTES} characters cut ...]\n${consoleText.slice(-half)}`;
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
