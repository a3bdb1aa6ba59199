/**
 * Runs an rpi3 build (kernel8.img) under `qemu-system-aarch64 -M raspi3b`: the image's UART
 * is QEMU's stdin and stdout, over which one input goes as frames (READY, INPUT, OUTPUT,
 * STOP; src/toolchain/serve). The image never exits (a board has nothing to exit to), so
 * QEMU is stopped here: after STOP's status line, on a "status=failed" line (a fault), on a
 * timeout, or when the session ends otherwise.
 *
 * The result has the shape of launch.ts's, with the console lines and an exit code read from
 * the image's status line, and the answer written as OUTPUT_FILE into the run's directory,
 * so that runBuild reports it as it reports every other target.
 */
import execa from 'execa';
import { promises as fs } from 'fs';
import { onInterrupt } from '../interrupt';
import { raspi3Args } from '../guest/guestArgs';
import { FRAME_ERROR_NAMES, FrameError } from '../serve/frame';
import { runServeSession, ServeSessionError, ServeSessionResult } from '../serve/session';
import { RunReport } from '../../common/types';
import { guardedCommand } from './guard';
import { GuestCommand } from './guestCommand';
import { LaunchResult } from './launch';

export interface Raspi3RunOptions {
  qemuPath: string;
  machine: string;
  kernel8: string;
  /** The inputs file (io_format.h, kind 1). */
  inputFile: Buffer;
  /** Where OUTPUT_FILE goes. */
  outputFile: string;
  cwd: string;
  timeoutMs: number;
}

export interface Raspi3RunResult {
  launched: LaunchResult;
  /** The device's invoke time (OUTPUT's invoke_ns): QEMU's TCG time here, not a board's. */
  invokeNs?: number;
  /** What the console and the session said went wrong, when the answer is missing. */
  sessionError?: string;
}

const FAILED_LINE = /^edgespec: status=failed\b/;
const EXIT_CODE = /^edgespec: status=failed exit=(\d+)/;

/**
 * Without -icount: under it QEMU's raspi3b moves a received UART byte about every 230 µs
 * (4 KB/s, measured with the core asleep in wfi between bytes), against about 28 µs without
 * (36 KB/s): MobileNetV2's 602 KB input would take minutes. So rpi3 runs are not
 * instruction-counted.
 */
export function raspi3Command(qemuPath: string, machine: string, kernel8: string): { command: string; args: string[] } {
  return { command: qemuPath, args: raspi3Args(machine, kernel8, { countInstructions: false }) };
}

/** QEMU's UART takes in at least this many bytes per millisecond; the run's timeout gets the input's transfer on top. */
const UART_BYTES_PER_MS = 8;

export async function runRaspi3(opts: Raspi3RunOptions): Promise<Raspi3RunResult> {
  const { command, args } = raspi3Command(opts.qemuPath, opts.machine, opts.kernel8);
  const timeoutMs = opts.timeoutMs + Math.ceil(opts.inputFile.length / UART_BYTES_PER_MS);
  const guarded = guardedCommand(command, args, timeoutMs / 1000);
  const start = process.hrtime.bigint();
  const child = execa(guarded.command, guarded.args, {
    cwd: opts.cwd,
    reject: false,
    stdin: 'pipe',
    stdout: 'pipe',
    stderr: 'pipe',
    detached: true,
    buffer: false
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    if (stderr.length < 64 * 1024) stderr += chunk.toString('utf8');
  });
  const stopQemu = (): void => {
    if (child.pid === undefined) return;
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  const forget = onInterrupt(stopQemu);
  let failedLine = false;
  let session: ServeSessionResult | undefined;
  let sessionError: ServeSessionError | undefined;
  let timedOut = false;
  let spawnError: string | undefined;
  child.on('error', e => {
    spawnError = e.message;
  });
  try {
    session = await runServeSession({ readable: child.stdout!, writable: child.stdin! }, [opts.inputFile], {
      timeoutMs,
      retries: 1,
      onLine: text => {
        if (FAILED_LINE.test(text)) {
          failedLine = true;
          // the image parks after a fault; give the rest of its lines a moment to arrive
          setTimeout(stopQemu, 200);
        }
      }
    });
  } catch (e) {
    if (!(e instanceof ServeSessionError)) throw e;
    sessionError = e;
    if (e.code === 'ready-timeout') timedOut = true;
  } finally {
    stopQemu();
    await child.catch(() => undefined);
    forget();
  }
  const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
  const lines = session?.lines ?? sessionError?.lines ?? [];
  const result = session?.results[0];
  if (result?.status === 'timeout' && !failedLine) timedOut = true;
  const consoleText = `${lines.join('\n')}${lines.length ? '\n' : ''}${stderr}`;

  if (result?.status === 'ok' && result.outputsFile) await fs.writeFile(opts.outputFile, result.outputsFile);
  const exitFromLine = lines.map(l => EXIT_CODE.exec(l)).find(m => m);
  const exitCode = timedOut
    ? null
    : exitFromLine
      ? Number(exitFromLine[1])
      : result?.status === 'ok' && session?.stopped
        ? 0
        : result?.error?.code === FRAME_ERROR_NAMES[FrameError.BadInput]
          ? 2 // the device refused the input (an index outside its axis, or a frame not matching the model), as the one-shot platforms exit
          : 1;
  const problem = sessionError?.message ?? (result && result.status !== 'ok' ? result.error?.message : undefined) ?? (session && !session.stopped && result?.status === 'ok' ? 'the device did not print "edgespec: status=ok" after STOP' : undefined);
  return {
    launched: {
      exitCode,
      signal: timedOut ? 'SIGKILL' : null,
      timedOut,
      console: consoleText,
      wallMs,
      ...(spawnError && !session && !sessionError ? { spawnError } : {})
    },
    ...(result?.invokeNs !== undefined ? { invokeNs: result.invokeNs } : {}),
    ...(problem ? { sessionError: problem } : {})
  };
}

/** The command run.json's wall time describes, for runBuild. */
export function raspi3Guest(qemuPath: string, machine: string, kernel8: string): GuestCommand {
  return {
    ...raspi3Command(qemuPath, machine, kernel8),
    wallHow: 'process.hrtime from starting qemu-system-aarch64 -M raspi3b to stopping it: boot, READY, the input frame over the UART (QEMU takes in about 36 KB/s), one inference, the output frame, STOP; guest instructions are not counted (no -icount: it slows QEMU\'s UART eightfold)'
  };
}

/** What only the rpi3 session knows: why an answer is missing. */
export function completeRaspi3Report(report: RunReport, run: Raspi3RunResult): void {
  if (report.status === 'error' && run.sessionError) report.error = `${report.error ?? 'the run failed'}: ${run.sessionError}`;
}
