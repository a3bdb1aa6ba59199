import execa from 'execa';

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

/** Runs a guest or host program to completion, killing it (SIGKILL) once the timeout passes. */
export async function launch(opts: LaunchOptions): Promise<LaunchResult> {
  const start = process.hrtime.bigint();
  const result = await execa(opts.command, opts.args, {
    cwd: opts.cwd,
    env: opts.env,
    reject: false,
    all: true,
    stdin: 'ignore',
    timeout: opts.timeoutMs,
    killSignal: 'SIGKILL',
    maxBuffer: MAX_CONSOLE_BYTES,
    stripFinalNewline: false
  });
  const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
  const failure = result as unknown as { code?: string; shortMessage?: string };
  const spawnFailed = result.exitCode === undefined && !result.timedOut && !result.signal && typeof failure.code === 'string';
  return {
    exitCode: typeof result.exitCode === 'number' ? result.exitCode : null,
    signal: result.signal ?? null,
    timedOut: result.timedOut,
    console: result.all ?? '',
    wallMs,
    ...(spawnFailed ? { spawnError: failure.shortMessage ?? failure.code } : {})
  };
}
