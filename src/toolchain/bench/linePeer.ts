import { ChildProcess, spawn } from 'child_process';
import { EdgespecError } from '../errors';

/**
 * The peers' line protocol (tflite_peer.py, torch_peer.py --serve, arm64/ort_peer.js): the peer
 * prints one JSON line {"event": "ready", ...} once its model is loaded and run once, then answers
 * each stdin line `time RUNS WARMUP` with {"event": "times", "times_ms": [...]} (WARMUP untimed
 * calls, then RUNS timed ones) until `quit` or the end of stdin; {"event": "error", "message"} on
 * a bad request. Anything else it prints (a runtime's log line) is skipped.
 */
export type LinePeerLine<R> = ({ event: 'ready' } & R) | { event: 'times'; times_ms: number[] } | { event: 'error'; message: string };

/** How to start a peer. */
export interface PeerCommand {
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
}

/** One stdout line as an event, or undefined; `readyOf` reads (and checks) the ready line's fields. */
export function parseLinePeerLine<R>(line: string, readyOf: (fields: Record<string, unknown>) => R | undefined): LinePeerLine<R> | undefined {
  const text = line.trim();
  if (!text.startsWith('{')) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const event = (value as { event?: unknown }).event;
  if (event === 'times') {
    const times = (value as { times_ms?: unknown }).times_ms;
    if (!Array.isArray(times) || !times.every(t => typeof t === 'number' && Number.isFinite(t) && t >= 0)) return undefined;
    return { event, times_ms: times as number[] };
  }
  if (event === 'error') return { event, message: String((value as { message?: unknown }).message ?? 'unknown error') };
  if (event === 'ready') {
    const ready = readyOf(value as Record<string, unknown>);
    return ready === undefined ? undefined : { event, ...ready };
  }
  return undefined;
}

/**
 * A running peer: started once, then asked for timing rounds (`time RUNS WARMUP`), so its rounds
 * interleave with edgespec's in the same minutes. Stop it with close().
 */
export class LinePeer<R> {
  private buffered = '';
  private lines: string[] = [];
  private waiting?: () => void;
  private exited = false;
  private log = '';
  ready?: R;

  private constructor(private readonly child: ChildProcess, private readonly parse: (line: string) => LinePeerLine<R> | undefined, readonly name: string, readonly describe: string) {
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      this.buffered += chunk;
      const parts = this.buffered.split('\n');
      this.buffered = parts.pop() ?? '';
      this.lines.push(...parts);
      this.waiting?.();
    });
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => { this.log = (this.log + chunk).slice(-4000); });
    child.on('exit', () => { this.exited = true; this.waiting?.(); });
    child.on('error', e => { this.log += `\n${e.message}`; this.exited = true; this.waiting?.(); });
  }

  /** Starts the peer and waits for its ready line; `name` (e.g. "the LiteRT peer") is what errors call it. */
  static async start<R>(cmd: PeerCommand, timeoutMs: number, name: string, parse: (line: string) => LinePeerLine<R> | undefined): Promise<LinePeer<R>> {
    const child = spawn(cmd.command, cmd.args, { env: cmd.env, stdio: ['pipe', 'pipe', 'pipe'] });
    const peer = new LinePeer<R>(child, parse, name, `${cmd.command} ${cmd.args.join(' ')}`);
    const first = await peer.next(timeoutMs);
    if (first.event !== 'ready') {
      peer.close();
      throw new EdgespecError('bench-peer-failed', `${name} did not start: ${first.event === 'error' ? first.message : 'unexpected reply'}`, `run it by hand: ${peer.describe}`);
    }
    const { event: _event, ...ready } = first;
    peer.ready = ready as unknown as R;
    return peer;
  }

  private async next(timeoutMs: number): Promise<LinePeerLine<R>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      while (this.lines.length > 0) {
        const parsed = this.parse(this.lines.shift()!);
        if (parsed) return parsed;
      }
      if (this.exited) {
        throw new EdgespecError('bench-peer-failed', `${this.name} ended: ${this.log.trim().split('\n').slice(-2).join(' | ') || 'no message'}`, `run it by hand: ${this.describe}`);
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        this.close();
        throw new EdgespecError('bench-peer-failed', `${this.name} did not answer within ${Math.round(timeoutMs / 1000)} s`, `run it by hand: ${this.describe}`);
      }
      await new Promise<void>(resolve => {
        const timer = setTimeout(resolve, Math.min(left, 1000));
        this.waiting = () => { clearTimeout(timer); resolve(); };
      });
      this.waiting = undefined;
    }
  }

  /** `warmup` untimed calls, then the times of `runs` calls (timed inside the peer). */
  async time(runs: number, warmup: number, timeoutMs: number): Promise<number[]> {
    this.child.stdin!.write(`time ${runs} ${warmup}\n`);
    const answer = await this.next(timeoutMs);
    if (answer.event !== 'times') throw new EdgespecError('bench-peer-failed', `${this.name} answered ${answer.event === 'error' ? answer.message : answer.event} to a timing request`, `run it by hand: ${this.describe}`);
    return answer.times_ms;
  }

  close(): void {
    if (this.exited) return;
    try {
      this.child.stdin!.end('quit\n');
    } catch {
      // already closed
    }
    const child = this.child;
    setTimeout(() => { if (!this.exited) child.kill('SIGKILL'); }, 5000).unref();
  }
}
