import execa from 'execa';
import { onInterrupt } from '../interrupt';
import { guardedCommand } from './guard';

export interface LaunchOptions {
  command: string;
  args: string[];
  cwd: string;
  timeoutMs: number;
  env?: NodeJS.ProcessEnv;
}

export interface LaunchResult {
  /** null when the process was killed by a signal (including our timeout). */
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  /** stdout and stderr interleaved as they arrived. */
  console: string;
  /** from spawning the process to its exit, measured with process.hrtime. */
  wallMs: number;
  /** set when the process could not be started at all (e.g. ENOENT). */
  spawnError?: string;
}

/** The console of a misbehaving guest can be endless; keep what a person can read. */
const MAX_CONSOLE_BYTES = 8 * 1024 * 1024;

/** Node's timers take at most 2^31 - 1 ms; a larger delay fires at once. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Runs a guest or host program to completion. It runs in a process group of its own, under
 * the guard of guard.ts (it dies with this process, and stops by itself a little after the
 * timeout); once the timeout passes this process kills the whole group with SIGKILL.
 */
export async function launch(opts: LaunchOptions): Promise<LaunchResult> {
  const guarded = guardedCommand(opts.command, opts.args, opts.timeoutMs / 1000);
  const start = process.hrtime.bigint();
  const child = execa(guarded.command, guarded.args, {
    cwd: opts.cwd,
    env: opts.env,
    reject: false,
    all: true,
    stdin: 'ignore',
    detached: true,
    maxBuffer: MAX_CONSOLE_BYTES,
    stripFinalNewline: false
  });
  let timedOut = false;
  const killGroup = (): void => {
    if (child.pid === undefined) return;
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  const forget = onInterrupt(killGroup);
  const timer = setTimeout(() => {
    timedOut = true;
    killGroup();
  }, Math.min(Math.max(opts.timeoutMs, 1), MAX_TIMER_MS));
  let result;
  try {
    result = await child;
  } finally {
    clearTimeout(timer);
    forget();
  }
  const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
  // The guard stopped it first (this process was too busy to): timeout(1) exits with 124 then.
  if (guarded.guardTimeoutExit !== undefined && result.exitCode === guarded.guardTimeoutExit && wallMs >= opts.timeoutMs) timedOut = true;
  const failure = result as unknown as { code?: string; shortMessage?: string };
  const spawnFailed = result.exitCode === undefined && !result.signal && typeof failure.code === 'string';
  return {
    exitCode: typeof result.exitCode === 'number' && !timedOut ? result.exitCode : null,
    signal: timedOut ? 'SIGKILL' : result.signal ?? null,
    timedOut,
    console: result.all ?? '',
    wallMs,
    ...(spawnFailed && !timedOut ? { spawnError: failure.shortMessage ?? failure.code } : {})
  };
}
