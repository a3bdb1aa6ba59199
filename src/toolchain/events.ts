import { CliEvent } from '../common/types';
import { undoAll } from './interrupt';

/**
 * Where a command reports what it does. With `--json` every event is one JSON line on
 * stdout (DESIGN.md "CLI events"); otherwise progress and logs go to stderr for a person
 * and the result is printed by the command's own formatter.
 */
export interface Reporter {
  readonly json: boolean;
  progress(stage: string, done: number, total: number, message?: string): void;
  log(message: string, level?: 'info' | 'warn' | 'debug'): void;
  result(command: string, data: unknown, human?: () => string): void;
  error(code: string, message: string, hint?: string, details?: unknown): void;
}

/** The status of a process killed by SIGPIPE, which is what a C tool would have died of. */
export const BROKEN_PIPE_EXIT = 141;
let brokenPipeHandled = false;

/**
 * When the reader of stdout or stderr goes away (`edgespec run ... | head`), writing fails
 * with EPIPE. Nobody is left to read what the command would say, so it stops quietly, after
 * undoing what an interrupt undoes (the guest, the run's work directory, staging directories).
 */
export function stopQuietlyOnBrokenPipe(): void {
  if (brokenPipeHandled) return;
  brokenPipeHandled = true;
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code !== 'EPIPE') throw e;
      undoAll();
      process.exit(BROKEN_PIPE_EXIT);
    });
  }
}

export function createReporter(json: boolean, out?: (line: string) => void, err?: (line: string) => void): Reporter {
  if (!out || !err) stopQuietlyOnBrokenPipe();
  return createReporterTo(json, out ?? (l => process.stdout.write(l + '\n')), err ?? (l => process.stderr.write(l + '\n')));
}

function createReporterTo(json: boolean, out: (line: string) => void, err: (line: string) => void): Reporter {
  const emit = (event: CliEvent) => out(JSON.stringify(event));
  return {
    json,
    progress(stage, done, total, message) {
      if (json) emit({ event: 'progress', stage, done, total, ...(message ? { message } : {}) });
      else err(`[${stage}] ${done}/${total}${message ? ' ' + message : ''}`);
    },
    log(message, level = 'info') {
      if (json) emit({ event: 'log', level, message });
      else if (level !== 'debug' || process.env.EDGESPEC_DEBUG) err(message);
    },
    result(command, data, human) {
      if (json) emit({ event: 'result', command, data });
      else out(human ? human() : JSON.stringify(data, null, 2));
    },
    error(code, message, hint, details) {
      if (json) emit({ event: 'error', code, message, ...(hint ? { hint } : {}), ...(details !== undefined ? { details } : {}) });
      else err(`edgespec: error: ${message}${hint ? `\n  fix: ${hint}` : ''}`);
    }
  };
}
