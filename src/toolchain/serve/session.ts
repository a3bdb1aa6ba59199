/**
 * A serving session: wait for READY, send each input as an INPUT frame, wait for its OUTPUT
 * or ERROR, then STOP.
 *
 *   runServeSession(stream, inputFiles, { timeoutMs, onProgress }) → ServeSessionResult
 *
 * `stream` is any Node duplex, or { readable, writable } (a child's stdout and stdin);
 * each input is an inputs file (io_format.h, kind 1; encodeIoFile). Results come back one per
 * input, in order; after a timeout or a closed connection the inputs not yet answered are
 * reported as not run.
 */
import { Duplex } from 'stream';
import { ConnectionStreams, ConnectionWaitError, ServeConnection } from './connection';
import { decodeError, decodeOutput, decodeReady, FRAME_ERROR_NAMES, FrameError, FrameType, ReadyPayload } from './frame';

export interface ServeInputResult {
  index: number;
  sequence: number;
  status: 'ok' | 'error' | 'timeout' | 'not-run';
  /** The outputs file (io_format.h, kind 2) of an ok answer. */
  outputsFile?: Buffer;
  /** From the OUTPUT frame; undefined when the device reported 0 (it cannot count / has no clock). */
  instructions?: number;
  invokeNs?: number;
  /** Host time from sending the input to its answer, retries included. */
  wallMs: number;
  /** What went wrong: the device's ERROR code and message, or the host's. */
  error?: { code: string; message: string };
  attempts: number;
}

export interface ServeSessionResult {
  ready: ReadyPayload;
  /** Host time from the start of the session to READY. */
  readyMs: number;
  results: ServeInputResult[];
  /** Whether the device acknowledged STOP with "edgespec: status=ok". */
  stopped: boolean;
  lines: string[];
}

export interface ServeSessionOptions {
  /** Longest wait for one input's answer. */
  timeoutMs: number;
  /** Longest wait for READY (default: timeoutMs). */
  readyTimeoutMs?: number;
  /** Resends of an input whose frame or answer was damaged on the line (default 1). */
  retries?: number;
  /** Longest wait for the console lines that follow STOP (default 5 s). */
  stopTimeoutMs?: number;
  onProgress?: (done: number, total: number, result: ServeInputResult) => void;
  onLine?: (text: string) => void;
}

export class ServeSessionError extends Error {
  constructor(readonly code: 'ready-timeout' | 'closed-before-ready' | 'bad-ready', message: string, readonly lines: string[]) {
    super(message);
  }
}

/** Waits for the device's READY frame; console lines and stray frames before it are kept or skipped. */
export async function waitForReady(connection: ServeConnection, timeoutMs: number): Promise<ReadyPayload> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let answer;
    try {
      answer = await connection.nextAnswer(Math.max(1, deadline - Date.now()));
    } catch (e) {
      if (!(e instanceof ConnectionWaitError)) throw e;
      if (e.why === 'timeout') throw new ServeSessionError('ready-timeout', `the device sent no READY frame within ${timeoutMs} ms (is it built with serve mode, booted, and on this port?)`, connection.lines);
      throw new ServeSessionError('closed-before-ready', `${e.message} before sending READY`, connection.lines);
    }
    if (answer.kind === 'frame' && answer.frame.type === FrameType.Ready) {
      try {
        return decodeReady(answer.frame.payload);
      } catch (e) {
        throw new ServeSessionError('bad-ready', `the device's READY frame is malformed: ${(e as Error).message}`, connection.lines);
      }
    }
  }
}

/** Damage on the line, worth sending the input again. */
const RETRYABLE = new Set<number>([FrameError.Crc, FrameError.Timeout]);

async function runOne(connection: ServeConnection, file: Buffer, index: number, sequence: number, ready: ReadyPayload, opts: ServeSessionOptions): Promise<ServeInputResult> {
  const start = process.hrtime.bigint();
  const elapsed = () => Number(process.hrtime.bigint() - start) / 1e6;
  const base = { index, sequence };
  if (file.length > ready.maxInputBytes) {
    return { ...base, status: 'error', wallMs: 0, attempts: 0, error: { code: 'too-long', message: `input ${index} is ${file.length} bytes, more than the ${ready.maxInputBytes} the device takes (READY's max_input_bytes)` } };
  }
  const retries = opts.retries ?? 1;
  let last: ServeInputResult | undefined;
  for (let attempt = 1; attempt <= retries + 1; attempt++) {
    try {
      await connection.sendFrame(FrameType.Input, sequence, file);
      for (;;) {
        const answer = await connection.nextAnswer(opts.timeoutMs);
        if (answer.kind === 'bad-frame') {
          last = { ...base, status: 'error', wallMs: elapsed(), attempts: attempt, error: { code: 'bad-frame', message: `the answer to input ${index} arrived damaged: ${answer.reason}` } };
          break;
        }
        const { frame } = answer;
        if (frame.sequence !== sequence) continue; // a late answer to an earlier frame
        if (frame.type === FrameType.Output) {
          const output = decodeOutput(frame.payload);
          return {
            ...base,
            status: 'ok',
            outputsFile: output.outputsFile,
            ...(output.instructions ? { instructions: Number(output.instructions) } : {}),
            ...(output.invokeNs ? { invokeNs: Number(output.invokeNs) } : {}),
            wallMs: elapsed(),
            attempts: attempt
          };
        }
        if (frame.type === FrameType.Error) {
          const error = decodeError(frame.payload);
          const name = FRAME_ERROR_NAMES[error.code] ?? `error ${error.code}`;
          last = { ...base, status: 'error', wallMs: elapsed(), attempts: attempt, error: { code: name, message: `the device answered input ${index} with ERROR (${name}): ${error.message}` } };
          if (RETRYABLE.has(error.code)) break;
          return last;
        }
      }
    } catch (e) {
      if (!(e instanceof ConnectionWaitError)) throw e;
      const status = e.why === 'timeout' ? 'timeout' : 'error';
      const message = e.why === 'timeout' ? `no answer to input ${index} within ${opts.timeoutMs} ms` : `${e.message} while input ${index} was running`;
      return { ...base, status, wallMs: elapsed(), attempts: attempt, error: { code: e.why, message } };
    }
  }
  return last!;
}

export async function runServeSession(stream: Duplex | ConnectionStreams, inputFiles: readonly Buffer[], opts: ServeSessionOptions): Promise<ServeSessionResult> {
  const start = process.hrtime.bigint();
  const connection = new ServeConnection(stream, opts.onLine);
  const ready = await waitForReady(connection, opts.readyTimeoutMs ?? opts.timeoutMs);
  const readyMs = Number(process.hrtime.bigint() - start) / 1e6;
  const results: ServeInputResult[] = [];
  let broken = false;
  for (let i = 0; i < inputFiles.length; i++) {
    const result = broken
      ? { index: i, sequence: i + 1, status: 'not-run' as const, wallMs: 0, attempts: 0, error: { code: 'not-run', message: `input ${i} was not sent: an earlier input ${results.find(r => r.status === 'timeout') ? 'timed out' : 'lost the connection'}` } }
      : await runOne(connection, inputFiles[i], i, i + 1, ready, opts);
    if (result.status === 'timeout' || (result.error?.code === 'closed')) broken = true;
    results.push(result);
    opts.onProgress?.(i + 1, inputFiles.length, result);
  }
  let stopped = false;
  if (!connection.closed && !broken) {
    await connection.sendFrame(FrameType.Stop, inputFiles.length + 1).catch(() => undefined);
    stopped = await connection.waitForLine(l => /^edgespec: status=ok\b/.test(l), opts.stopTimeoutMs ?? 5000);
  }
  return { ready, readyMs, results, stopped, lines: connection.lines };
}
