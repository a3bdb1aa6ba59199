/**
 * `edgespec run BUILD --inputs DIR_OR_NPY [--expected DIR_OR_NPY] [--serial DEV [--baud N]]`:
 * boots the image once in serve mode (or talks to a board on a serial device), streams every
 * input through it as frames, and writes one output per step (run-outputs/NNNN.npy) and a
 * run.json whose `stream` section has each step's status, counters, wall time and agreement.
 */
import { promises as fs } from 'fs';
import * as path from 'path';
import { DType, RunReport, RunStreamStep } from '../../common/types';
import { EdgespecError } from '../errors';
import { Reporter } from '../events';
import { decodeIoFile, encodeIoFile, IO_KIND_INPUTS, IO_KIND_OUTPUTS } from '../guest/ioFile';
import { removeOnInterrupt } from '../interrupt';
import { runServeSession, ServeSessionError, ServeSessionResult } from '../serve/session';
import { computeAgreement, INT8_TOLERANCE_SCALE, int8Floor, TOLERANCE_SCALE } from './agreement';
import { writeFileAtomic } from './atomicWrite';
import { readBuildDir, RunnableBuild } from './buildDir';
import { toNumbers } from '../bundle/dtype';
import { parseGuestConsole } from './guestConsole';
import { encodeNpy } from './npy';
import { prepareInput } from './prepareInput';
import { discardRunResults, OUTPUTS_DIR, RUN_JSON, RunOutcome } from './runBuild';
import { openSerialPort } from './serialPort';
import { QemuServePort, ServingGuest, startServingGuest } from './servingGuest';
import { stageImage } from './stageImage';
import { readStreamSteps, StreamStep } from './streamInputs';
import { makeWorkDir } from './workDir';

export interface StreamRunOptions {
  buildDir: string;
  /** The steps; absent: one step, `input` or else the bundle's reference input (a board on --serial checked once). */
  inputs?: string;
  input?: string;
  expected?: string;
  serial?: string;
  baud?: number;
  /** qemu-virt: the FIFOs through semihosting (default) or the PL011 UART. */
  port?: QemuServePort;
  /** Longest wait for one input's answer, and for the device's READY. */
  timeoutS?: number;
  reporter: Reporter;
}

const DEFAULT_STEP_TIMEOUT_S = 60;
const STOP_WAIT_MS = 10_000;
const INSTRUCTIONS_HOW = 'per step: cntvct_el0 around es_model_invoke under -icount shift=0, sent in the OUTPUT frame';

export async function runStream(opts: StreamRunOptions): Promise<RunOutcome> {
  const build = await readBuildDir(opts.buildDir);
  try {
    return await runReadStream(build, opts);
  } catch (e) {
    await discardRunResults(build.dir);
    throw e;
  }
}

interface Expectation {
  source: string;
  outputs: (Buffer[] | undefined)[];
}

async function expectedOutputs(build: RunnableBuild, steps: StreamStep[], opts: StreamRunOptions): Promise<Expectation | undefined> {
  if (opts.expected) {
    const expected = await readStreamSteps(opts.expected, build.outputs, 'expected outputs');
    if (expected.length !== steps.length) {
      throw new EdgespecError('inputs-invalid', `--expected ${opts.expected} holds ${expected.length} steps, --inputs ${opts.inputs} ${steps.length}`, 'give one expected output per input, in the same order');
    }
    return { source: opts.expected, outputs: expected.map(e => e.tensors) };
  }
  // Without --expected, a step that is the bundle's reference input is compared with the reference outputs.
  const reference = await prepareInput(build, undefined, opts.reporter).catch(() => undefined);
  if (!reference?.referenceOutputs) return undefined;
  const outputs = steps.map(s => (s.tensors.every((t, i) => t.equals(reference.tensors[i])) ? reference.referenceOutputs!.map(r => r.data) : undefined));
  return outputs.some(o => o) ? { source: "the bundle's reference output (for steps that are its reference input)", outputs } : undefined;
}

/** The single step of a stream without --inputs: the user's --input, or the bundle's reference input. */
async function oneStep(build: RunnableBuild, opts: StreamRunOptions): Promise<StreamStep> {
  const prepared = await prepareInput(build, opts.input, opts.reporter);
  return { label: opts.input ?? "the bundle's reference input", tensors: prepared.tensors };
}

async function runReadStream(build: RunnableBuild, opts: StreamRunOptions): Promise<RunOutcome> {
  const { reporter } = opts;
  reporter.progress('run', 0, 1, `reading the inputs from ${opts.inputs ?? opts.input ?? "the bundle's reference"}`);
  const steps = opts.inputs !== undefined ? await readStreamSteps(opts.inputs, build.inputs, 'inputs') : [await oneStep(build, opts)];
  const expectation = await expectedOutputs(build, steps, opts);
  const inputFiles = steps.map(s => encodeIoFile(IO_KIND_INPUTS, s.tensors));
  const timeoutS = opts.timeoutS ?? DEFAULT_STEP_TIMEOUT_S;
  const total = steps.length;

  const workDir = await makeWorkDir();
  const forgetWorkDir = removeOnInterrupt(workDir);
  let guest: ServingGuest | undefined;
  let closeSerial: (() => void) | undefined;
  const start = process.hrtime.bigint();
  try {
    let streams;
    let port: string;
    if (opts.serial) {
      const serial = await openSerialPort(opts.serial, opts.baud);
      streams = serial.streams;
      closeSerial = serial.close;
      port = `serial device ${opts.serial} at ${opts.baud ?? 115200} baud`;
    } else {
      const image = await stageImage(build, workDir);
      // the whole stream may take each input's timeout; the guard stops the guest a little after
      guest = await startServingGuest({ ...build, image }, workDir, timeoutS * (total + 1), opts.port);
      streams = guest.streams;
      port = guest.port;
    }
    await discardRunResults(build.dir);
    reporter.progress('run', 0, total, `waiting for READY on ${port}`);
    let session: ServeSessionResult | undefined;
    let failure: Partial<RunReport> | undefined;
    try {
      session = await runServeSession(streams, inputFiles, {
        timeoutMs: timeoutS * 1000,
        stopTimeoutMs: guest && !guest.consoleWithFrames ? 0 : STOP_WAIT_MS,
        onProgress: (done, n, result) => reporter.progress('run', done, n, `input ${result.index} (${steps[result.index].label}): ${result.status}${result.error ? ` (${result.error.message})` : ''}`)
      });
    } catch (e) {
      if (!(e instanceof ServeSessionError)) throw e;
      failure = { status: e.code === 'ready-timeout' ? 'timeout' : 'error', error: e.message };
    }
    if (guest?.parksAfterStop) guest.kill();
    const exit = guest ? await waitForExit(guest) : { exitCode: null, signal: null };
    const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
    const consoleText = [guest?.console() ?? '', ...(session?.lines ?? [])].filter(t => t).join('\n');
    const report = streamReport(build, steps, expectation, session, { port, wallMs, consoleText, exitCode: exit.exitCode, failure, inputs: opts.inputs ?? steps[0].label, nsAreInstructions: !opts.serial && build.target === 'rpi3' });
    const outputs = session?.results.map(r => (r.status === 'ok' ? decodeIoFile(r.outputsFile!, IO_KIND_OUTPUTS, build.outputs.map(o => o.bytes)) : undefined)) ?? [];
    const runJson = path.join(build.dir, RUN_JSON);
    await publish(build, report, outputs).catch(e => {
      throw new EdgespecError('run-json-unwritable', `cannot write ${runJson}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, 'make the build directory writable, or copy it somewhere writable and run that copy');
    });
    return { report, runJson };
  } finally {
    guest?.kill();
    closeSerial?.();
    forgetWorkDir();
    await fs.rm(workDir, { recursive: true, force: true });
  }
}

async function waitForExit(guest: ServingGuest): Promise<{ exitCode: number | null; signal: string | null }> {
  const timer = new Promise<undefined>(resolve => setTimeout(() => resolve(undefined), STOP_WAIT_MS).unref());
  const exit = await Promise.race([guest.exited, timer]);
  if (exit) return exit;
  guest.kill();
  return guest.exited;
}

function outputFile(step: number, index: number, name: string, count: number): string {
  const base = String(step).padStart(4, '0');
  return count === 1 ? `${base}.npy` : `${base}-${index}-${name.replace(/[^A-Za-z0-9_.-]/g, '_')}.npy`;
}

interface SessionFacts {
  port: string;
  wallMs: number;
  consoleText: string;
  exitCode: number | null;
  failure?: Partial<RunReport>;
  inputs: string;
  /** The guest's clock is QEMU's virtual time under -icount shift=0 (rpi3 booted here). */
  nsAreInstructions: boolean;
}

function streamReport(build: RunnableBuild, steps: StreamStep[], expectation: Expectation | undefined, session: ServeSessionResult | undefined, facts: SessionFacts): RunReport {
  const int8Bar = build.dtype === 'int8';
  const stepReports: RunStreamStep[] = steps.map((step, index) => {
    const result = session?.results[index];
    if (!result) return { index, input: step.label, status: 'not-run', wall_ms: 0, error: facts.failure?.error ?? 'not sent' };
    const base: RunStreamStep = { index, input: step.label, status: result.status, wall_ms: round(result.wallMs, 3) };
    if (result.instructions !== undefined) base.guest_instructions = result.instructions;
    // rpi3's image sends its clock's nanoseconds; under raspi3b's -icount shift=0 each is one instruction
    else if (facts.nsAreInstructions && result.invokeNs !== undefined) base.guest_instructions = result.invokeNs;
    if (result.invokeNs !== undefined) base.invoke_ns = result.invokeNs;
    if (result.status !== 'ok') return { ...base, error: result.error?.message };
    let outputs: Buffer[];
    try {
      outputs = decodeIoFile(result.outputsFile!, IO_KIND_OUTPUTS, build.outputs.map(o => o.bytes));
    } catch (e) {
      return { ...base, status: 'error', error: `the OUTPUT frame's outputs file is unusable: ${(e as Error).message}` };
    }
    base.outputs = build.outputs.map((o, i) => path.join(OUTPUTS_DIR, outputFile(index, i, o.name, build.outputs.length)));
    base.first = Array.from(toNumbers(outputs[0].subarray(0, 8 * 4), build.outputs[0].dtype)).slice(0, 8);
    const expected = expectation?.outputs[index];
    if (expected) {
      const { agreement } = computeAgreement(
        build.outputs.map((spec, i) => ({ output: toNumbers(outputs[i], spec.dtype), reference: toNumbers(expected[i], spec.dtype as DType) })),
        int8Bar ? INT8_TOLERANCE_SCALE : TOLERANCE_SCALE,
        int8Bar ? int8Floor(build.outputs) : 0
      );
      base.agreement = agreement;
      if (!agreement.within_tolerance || !(int8Bar ? agreement.top1_match : agreement.top5_match)) base.status = 'mismatch';
    }
    return base;
  });
  const answered = stepReports.filter(s => s.status === 'ok' || s.status === 'mismatch').length;
  const compared = stepReports.filter(s => s.agreement);
  const agreeing = stepReports.filter(s => s.agreement && s.status === 'ok').length;
  const worst = compared.reduce<RunStreamStep | undefined>((w, s) => (!w || s.agreement!.max_abs_error / s.agreement!.tolerance > w.agreement!.max_abs_error / w.agreement!.tolerance ? s : w), undefined);
  const parsed = parseGuestConsole(facts.consoleText);
  let status: RunReport['status'] = 'ok';
  let error: string | undefined;
  const failed = stepReports.filter(s => s.status !== 'ok' && s.status !== 'mismatch');
  if (facts.failure) {
    status = facts.failure.status!;
    error = facts.failure.error;
  } else if (parsed.fault) {
    status = 'fault';
    error = `the guest faulted: ${parsed.fault.exception_class}`;
  } else if (failed.length) {
    status = failed.some(s => s.status === 'timeout') ? 'timeout' : 'error';
    error = `${failed.length} of ${steps.length} inputs got no outputs; the first: ${failed[0].error}`;
  } else if (compared.length && agreeing < compared.length) {
    status = 'mismatch';
    error = `${compared.length - agreeing} of ${compared.length} compared inputs disagree with the expected outputs`;
  }
  const first = stepReports.find(s => s.outputs);
  const instructions = stepReports.map(s => s.guest_instructions).filter((v): v is number => v !== undefined);
  return {
    format: 'edgespec.run',
    version: 1,
    model: build.model,
    target: build.target,
    dtype: build.dtype,
    status,
    exit_code: facts.exitCode,
    outputs: first
      ? build.outputs.map((spec, i) => ({ name: spec.name, shape: spec.shape, dtype: spec.dtype, file: first.outputs![i], first: i === 0 ? first.first! : [] }))
      : [],
    ...(worst ? { agreement: worst.agreement } : {}),
    ...(instructions.length ? { guest_instructions: { value: Math.max(...instructions), how: `the largest of the steps; ${INSTRUCTIONS_HOW}` } } : {}),
    wall_ms: { value: round(facts.wallMs, 3), how: `process.hrtime from starting the guest (or opening the device) to its exit after STOP: one boot, ${steps.length} inputs` },
    console: facts.consoleText.slice(-64 * 1024),
    ...(parsed.fault ? { fault: parsed.fault } : {}),
    ...(error ? { error } : {}),
    input: `${steps.length} inputs from ${facts.inputs}`,
    non_finite: { inputs: 0 },
    stream: {
      port: facts.port,
      ready_ms: round(session?.readyMs ?? 0, 3),
      inputs: steps.length,
      answered,
      ...(expectation ? { agreeing, expected: expectation.source } : {}),
      steps: stepReports
    }
  };
}

/** Outputs first (staged, then renamed into place), run.json last: it appears only beside a complete set. */
async function publish(build: RunnableBuild, report: RunReport, outputs: (Buffer[] | undefined)[]): Promise<void> {
  const staging = path.join(build.dir, `.${OUTPUTS_DIR}.tmp-${process.pid}`);
  const forget = removeOnInterrupt(staging);
  try {
    await fs.rm(staging, { recursive: true, force: true });
    await fs.mkdir(staging);
    for (const [step, tensors] of outputs.entries()) {
      if (!tensors) continue;
      for (const [i, spec] of build.outputs.entries()) {
        await fs.writeFile(path.join(staging, outputFile(step, i, spec.name, build.outputs.length)), encodeNpy({ dtype: spec.dtype, shape: spec.shape, data: tensors[i] }));
      }
    }
    await fs.rename(staging, path.join(build.dir, OUTPUTS_DIR));
    await writeFileAtomic(path.join(build.dir, RUN_JSON), JSON.stringify(report, null, 2) + '\n');
  } catch (e) {
    await fs.rm(staging, { recursive: true, force: true }).catch(() => undefined);
    await discardRunResults(build.dir);
    throw e;
  } finally {
    forget();
  }
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
