import { promises as fs } from 'fs';
import * as path from 'path';
import { DType, RunReport } from '../../common/types';
import { requireTool } from '../tools/tools';
import { EdgespecError } from '../errors';
import { Reporter } from '../events';
import { computeAgreement, FLOAT16_TOLERANCE_SCALE, INT8_TOLERANCE_SCALE, int8Floor, roundToFloat16, TOLERANCE_SCALE } from './agreement';
import { writeFileAtomic } from './atomicWrite';
import { isEdgespecBuildDir, readBuildDir, RunnableBuild } from './buildDir';
import { toNumbers } from '../bundle/dtype';
import { GuestConsole, numberField, parseGuestConsole } from './guestConsole';
import { GuestCommand, hostCommand, INPUT_FILE, OUTPUT_FILE, qemuVirtCommand } from './guestCommand';
import { decodeIoFile, encodedIoFileBytes, encodeIoFile, IO_KIND_INPUTS, IO_KIND_OUTPUTS } from '../guest/ioFile';
import { launch, LaunchResult } from './launch';
import { linuxCommand } from './linuxCommand';
import { efiCommand, finishEfiRun } from '../efi/efiRun';
import { collectVmConsole, linuxVmCommand } from '../linuxVm/runVm';
import { completeRaspi3Report, raspi3Guest, runRaspi3 } from './raspi3Run';
import { readProfile } from './profile';
import { encodeNpy } from './npy';
import { PreparedInput, prepareInput } from './prepareInput';
import { removeOnInterrupt } from '../interrupt';
import { elementCount } from '../bundle/safetensors';
import { readRegularFile } from '../readRegularFile';
import { tallyNonFinite, values } from './nonFinite';
import { stageImage } from './stageImage';
import { makeWorkDir } from './workDir';

export interface RunOptions {
  buildDir: string;
  inputFile?: string;
  timeoutS?: number;
  reporter: Reporter;
  /** Called with the run's working directory (where the guest wrote its files) before it is removed. */
  onWorkDir?: (workDir: string) => Promise<void>;
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
  linux: 'running the AArch64 executable under qemu-aarch64',
  'linux-vm': 'booting Linux in QEMU\'s virt machine with the model as /init',
  rpi3: 'booting kernel8.img in QEMU\'s raspi3b and sending the input over its UART',
  efi: 'booting BOOTAA64.EFI under EDK2 in QEMU\'s virt machine'
};
const INSTRUCTIONS_HOW = 'cntvct_el0 read by the guest before and after es_model_invoke under -icount shift=0 (one instruction per nanosecond of virtual time)';

/** A guest gets a minute plus a second per MiB of image (larger models compute longer). */
export function defaultTimeoutS(build: RunnableBuild): number {
  return 60 + Math.ceil(build.imageBytes / (1024 * 1024));
}

export async function runBuild(opts: RunOptions): Promise<RunOutcome> {
  const { reporter } = opts;
  reporter.progress('run', 0, 3, 'reading the build and the input');
  let build: RunnableBuild;
  try {
    build = await readBuildDir(opts.buildDir);
  } catch (e) {
    if (await isEdgespecBuildDir(opts.buildDir)) await discardRunResults(path.resolve(opts.buildDir));
    throw e;
  }
  try {
    return await runReadBuild(build, opts);
  } catch (e) {
    // whatever failed, nothing on disk may still claim that an earlier run of this image went well
    await discardRunResults(build.dir);
    throw e;
  }
}

async function runReadBuild(build: RunnableBuild, opts: RunOptions): Promise<RunOutcome> {
  const { reporter } = opts;
  const input = await prepareInput(build, opts.inputFile, reporter);
  const timeoutS = opts.timeoutS ?? defaultTimeoutS(build);

  const workDir = await makeWorkDir();
  const forgetWorkDir = removeOnInterrupt(workDir);
  try {
    const image = await stageImage(build, workDir);
    const inputFile = encodeIoFile(IO_KIND_INPUTS, input.tensors);
    await fs.writeFile(path.join(workDir, INPUT_FILE), inputFile);
    const staged = { ...build, image };
    const guest = build.target === 'qemu-virt'
      ? qemuVirtCommand(staged, (await requireTool('qemu-system-aarch64')).path, workDir)
      : build.target === 'rpi3'
        ? raspi3Guest((await requireTool('qemu-system-aarch64')).path, build.board!.machine, image)
      : build.target === 'efi'
        ? await efiCommand(staged, (await requireTool('qemu-system-aarch64')).path, workDir)
      : build.target === 'linux-vm'
        ? await linuxVmCommand(build, (await requireTool('qemu-system-aarch64')).path, workDir)
      : build.target === 'linux'
        ? linuxCommand(staged, (await requireTool('qemu-aarch64')).path, workDir)
        : hostCommand(staged, workDir);
    await discardRunResults(build.dir);
    reporter.progress('run', 1, 3, `${RUNNING[build.target]} (timeout ${timeoutS} s)`);
    const rpi3 = build.target === 'rpi3'
      ? await runRaspi3({ qemuPath: guest.command, machine: build.board!.machine, kernel8: image, inputFile, outputFile: path.join(workDir, OUTPUT_FILE), cwd: workDir, timeoutMs: timeoutS * 1000 })
      : undefined;
    let launched = rpi3?.launched ?? (await launch({ command: guest.command, args: guest.args, cwd: workDir, timeoutMs: timeoutS * 1000 }));
    if (build.target === 'linux-vm') launched = await collectVmConsole(launched, workDir);
    if (build.target === 'efi') launched = await finishEfiRun(launched, workDir);
    reporter.progress('run', 2, 3, 'reading the outputs');
    const { report, outputs } = await reportRun(build, input, guest, launched, timeoutS, workDir);
    if (rpi3) completeRaspi3Report(report, rpi3);
    await opts.onWorkDir?.(workDir);
    const runJson = path.join(build.dir, RUN_JSON);
    await publishRunResults(build, report, outputs).catch(e => {
      throw new EdgespecError('run-json-unwritable', `cannot write ${runJson}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, 'make the build directory writable (and free some space), or copy it somewhere writable and run that copy');
    });
    reporter.progress('run', 3, 3, report.status);
    return { report, runJson };
  } finally {
    forgetWorkDir();
    await fs.rm(workDir, { recursive: true, force: true });
  }
}

/** Removes run.json and the saved outputs of an earlier run, so that they cannot describe this one. */
export async function discardRunResults(dir: string): Promise<void> {
  await fs.rm(path.join(dir, RUN_JSON), { force: true }).catch(() => undefined);
  await fs.rm(path.join(dir, OUTPUTS_DIR), { recursive: true, force: true }).catch(() => undefined);
}

/**
 * Writes the outputs, then run.json last: run.json says what the outputs are, so it appears
 * only beside a complete set. On any failure neither is left.
 */
async function publishRunResults(build: RunnableBuild, report: RunReport, outputs: Buffer[] | undefined): Promise<void> {
  const staging = path.join(build.dir, `.${OUTPUTS_DIR}.tmp-${process.pid}`);
  const forgetStaging = removeOnInterrupt(staging);
  try {
    if (outputs) {
      await fs.rm(staging, { recursive: true, force: true });
      await fs.mkdir(staging);
      await Promise.all(build.outputs.map((spec, i) => fs.writeFile(path.join(staging, outputFileName(i, spec.name)), encodeNpy({ dtype: spec.dtype, shape: spec.shape, data: outputs[i] }))));
      await fs.rename(staging, path.join(build.dir, OUTPUTS_DIR));
    }
    await writeFileAtomic(path.join(build.dir, RUN_JSON), JSON.stringify(report, null, 2) + '\n');
  } catch (e) {
    await fs.rm(staging, { recursive: true, force: true }).catch(() => undefined);
    await discardRunResults(build.dir);
    throw e;
  } finally {
    forgetStaging();
  }
}

/** The run's report, and its outputs when the guest wrote usable ones. */
async function reportRun(
  build: RunnableBuild, input: PreparedInput, guest: GuestCommand, launched: LaunchResult, timeoutS: number, workDir: string
): Promise<{ report: RunReport; outputs?: Buffer[] }> {
  const parsed = parseGuestConsole(launched.console);
  const inputsNonFinite = tallyNonFinite(build.inputs.map((spec, i) => ({ name: spec.name, dtype: spec.dtype, data: input.tensors[i], elements: elementCount(spec.shape) })));
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
    input: input.description,
    non_finite: { inputs: inputsNonFinite.total }
  };
  const instructions = numberField(parsed, 'invoke_instructions');
  if (instructions !== undefined) report.guest_instructions = { value: instructions, how: INSTRUCTIONS_HOW };
  if (build.profile) {
    const profile = readProfile(build.profile, launched.console, build.target);
    if (profile) report.profile = profile;
  }

  const failure = guestFailure(launched, parsed, timeoutS);
  if (failure) return { report: { ...report, ...failure } };

  let outputs: Buffer[];
  try {
    outputs = decodeIoFile(await readOutputFile(build, workDir), IO_KIND_OUTPUTS, build.outputs.map(o => o.bytes));
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'it was not written' : (e as Error).message;
    return { report: { ...report, status: 'error', error: `the run ended with status 0 but ${OUTPUT_FILE} is unusable: ${why}` } };
  }
  report.outputs = describeOutputs(build, outputs);
  const outputsNonFinite = tallyNonFinite(build.outputs.map((spec, i) => ({ name: spec.name, dtype: spec.dtype, data: outputs[i], elements: elementCount(spec.shape) })));
  report.non_finite = { inputs: inputsNonFinite.total, outputs: outputsNonFinite.total };

  if (input.referenceOutputs) {
    // an int8 image, or a reference the framework computed with int8 arithmetic (a dynamic-range .tflite)
    const int8Bar = build.dtype === 'int8' || input.referenceArithmetic === 'dynamic-range int8';
    const float16Reference = input.referenceArithmetic === 'float16';
    const { agreement, nonFinite } = computeAgreement(
      input.referenceOutputs.map((ref, i) => ({
        // a float16 model's reference is float16 values: the image's outputs are compared on that grid
        output: float16Reference ? Array.from(toNumbers(outputs[i], build.outputs[i].dtype), roundToFloat16) : toNumbers(outputs[i], build.outputs[i].dtype),
        reference: toNumbers(ref.data, ref.dtype as DType),
        ...(build.outputs[i].dtype === 'int32' || build.outputs[i].dtype === 'int64' ? { exact: { name: build.outputs[i].name } } : {})
      })),
      int8Bar ? INT8_TOLERANCE_SCALE : input.referenceArithmetic === 'float16' ? FLOAT16_TOLERANCE_SCALE : TOLERANCE_SCALE,
      int8Bar ? int8Floor(build.outputs) : 0
    );
    report.agreement = agreement;
    if (nonFinite > 0) {
      const cause = inputsNonFinite.total > 0 ? `; the input holds ${values(inputsNonFinite.total)}` : '';
      report.error = `${nonFinite} output value${nonFinite === 1 ? ' is' : 's are'} NaN or infinite where the reference's are not${cause}`;
    }
    const ranksAgree = int8Bar ? agreement.top1_match : agreement.top5_match;
    if (!agreement.within_tolerance || !ranksAgree) report.status = 'mismatch';
  } else if (outputsNonFinite.total > 0 && !input.referenceOutputsNonFinite) {
    // not compared, but the model's reference outputs are finite (or unknown): these outputs are not an answer
    const reference = input.referenceOutputsNonFinite === 0 ? "while the bundle's reference outputs are all finite" : '(no reference to compare with)';
    const cause = inputsNonFinite.total > 0 ? `; the input holds ${values(inputsNonFinite.total)} (${inputsNonFinite.where.join(', ')})` : '';
    report.status = 'error';
    report.error = `the outputs hold ${values(outputsNonFinite.total)} (${outputsNonFinite.where.join(', ')}) ${reference}${cause}`;
  }
  return { report, outputs };
}

/** output.bin is written by the guest: read it as a regular file of at most the size the outputs need. */
async function readOutputFile(build: RunnableBuild, workDir: string): Promise<Buffer> {
  const expected = encodedIoFileBytes(build.outputs.map(o => o.bytes));
  return readRegularFile(path.join(workDir, OUTPUT_FILE), {
    what: 'the guest\'s output file',
    maxBytes: expected,
    hint: 'the image writes more than its outputs; build it again',
    tooLarge: bytes => new EdgespecError('run-output-invalid', `${OUTPUT_FILE} is ${bytes ?? `more than ${expected}`} bytes, more than the ${expected} the outputs take`)
  });
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

function outputFileName(index: number, name: string): string {
  return `${index}-${name.replace(/[^A-Za-z0-9_.-]/g, '_')}.npy`;
}

function describeOutputs(build: RunnableBuild, outputs: Buffer[]): RunReport['outputs'] {
  return build.outputs.map((spec, i) => {
    const values = toNumbers(outputs[i].subarray(0, 8 * 8), spec.dtype);
    return { name: spec.name, shape: spec.shape, dtype: spec.dtype, file: path.join(OUTPUTS_DIR, outputFileName(i, spec.name)), first: Array.from(values.slice(0, 8)) };
  });
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
