import { ChildProcess, spawn } from 'child_process';
import { homedir } from 'os';
import * as path from 'path';
import { EdgespecError } from '../errors';
import { repoPath } from '../paths';
import { pythonEnv } from '../tools/locate';
import { requireTool } from '../tools/tools';
import { EMULATED_CPU } from './arm64Peer';

export const TFLITE_PEER_SCRIPT = repoPath('src', 'toolchain', 'bench', 'python', 'tflite_peer.py');
export const LITERT_SYSROOT_SCRIPT = repoPath('scripts', 'arm64-litert-sysroot.sh');

export type TflitePeerRuntime = 'litert' | 'tflm';

/** The peer's first line: what it is and the output of one invoke (real values). */
export interface PeerReady {
  runtime: TflitePeerRuntime;
  version: string;
  input_dtype: string;
  output_dtype: string;
  machine: string;
  output: number[];
  /** tflm only: the text print_allocations() wrote. */
  allocations?: string;
}

export type PeerLine = ({ event: 'ready' } & PeerReady) | { event: 'times'; times_ms: number[] } | { event: 'error'; message: string };

/** One line of tflite_peer.py's stdout as an event, or undefined for anything else (a runtime's log line). */
export function parsePeerLine(line: string): PeerLine | undefined {
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
    const v = value as Record<string, unknown>;
    if ((v.runtime !== 'litert' && v.runtime !== 'tflm') || !Array.isArray(v.output)) return undefined;
    return {
      event,
      runtime: v.runtime,
      version: String(v.version ?? 'unknown'),
      input_dtype: String(v.input_dtype ?? 'unknown'),
      output_dtype: String(v.output_dtype ?? 'unknown'),
      machine: String(v.machine ?? 'unknown'),
      output: (v.output as unknown[]).map(Number),
      ...(typeof v.allocations === 'string' ? { allocations: v.allocations } : {})
    };
  }
  return undefined;
}

/** TensorFlow Lite Micro's RecordingMicroAllocator report, in bytes. */
export interface TflmAllocations {
  /** "Arena allocation total": everything the interpreter took from the arena. */
  total: number;
  /** "Arena allocation head": the non-persistent part (the tensors' memory plan and scratch). */
  head: number;
  /** "Arena allocation tail": the persistent part (tensor structs, quantization data, op data, node structs). */
  tail: number;
  /** Each recorded kind: bytes used with alignment overhead. */
  kinds: Record<string, number>;
}

/** Reads print_allocations()'s text; undefined when it holds no "Arena allocation total" line. */
export function parseTflmAllocations(text: string): TflmAllocations | undefined {
  const field = (name: string): number | undefined => {
    const m = new RegExp(`Arena allocation ${name} (\\d+) bytes`).exec(text);
    return m ? Number(m[1]) : undefined;
  };
  const total = field('total');
  if (total === undefined) return undefined;
  const kinds: Record<string, number> = {};
  for (const m of text.matchAll(/'([^']+)' used (\d+) bytes/g)) kinds[m[1]] = Number(m[2]);
  return { total, head: field('head') ?? 0, tail: field('tail') ?? 0, kinds };
}

/** How to start the peer: natively in the project's Python, or the arm64 sysroot's Python under qemu-aarch64. */
export interface PeerCommand {
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
}

export function defaultLitertSysroot(): string {
  return process.env.EDGESPEC_ARM64_LITERT_SYSROOT ?? path.join(homedir(), '.cache', 'edgespec', 'arm64-litert-sysroot');
}

export async function hostPeerCommand(runtime: TflitePeerRuntime, model: string, input: string): Promise<PeerCommand> {
  const python = await requireTool('python');
  return { command: python.path, args: [TFLITE_PEER_SCRIPT, '--runtime', runtime, '--model', model, '--input', input], env: { ...pythonEnv(), OMP_NUM_THREADS: '1' } };
}

/** LiteRT's aarch64 wheel in Debian's arm64 Python (scripts/arm64-litert-sysroot.sh), under qemu-aarch64 -cpu cortex-a72. */
export async function emulatedPeerCommand(sysroot: string, model: string, input: string): Promise<PeerCommand> {
  const qemu = (await requireTool('qemu-aarch64')).path;
  return {
    command: qemu,
    args: ['-L', sysroot, path.join(sysroot, 'usr', 'bin', 'edgespec-python'), TFLITE_PEER_SCRIPT, '--runtime', 'litert', '--model', path.resolve(model), '--input', path.resolve(input)],
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/', QEMU_CPU: EMULATED_CPU, PYTHONPATH: '/opt/litert/site-packages', PYTHONNOUSERSITE: '1', OMP_NUM_THREADS: '1' }
  };
}

/**
 * A running tflite_peer.py: started once, then asked for timing rounds (`time RUNS WARMUP`), so
 * its rounds interleave with edgespec's in the same minutes. Stop it with close().
 */
export class TflitePeer {
  private buffered = '';
  private lines: string[] = [];
  private waiting?: () => void;
  private exited = false;
  private log = '';

  private constructor(private readonly child: ChildProcess, readonly describe: string) {
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

  ready?: PeerReady;

  static async start(cmd: PeerCommand, timeoutMs: number): Promise<TflitePeer> {
    const child = spawn(cmd.command, cmd.args, { env: cmd.env, stdio: ['pipe', 'pipe', 'pipe'] });
    const peer = new TflitePeer(child, `${cmd.command} ${cmd.args.join(' ')}`);
    const first = await peer.next(timeoutMs);
    if (first.event !== 'ready') {
      peer.close();
      throw new EdgespecError('bench-tflite-peer', `the ${cmd.args.includes('tflm') ? 'TFLM' : 'LiteRT'} peer did not start: ${first.event === 'error' ? first.message : 'unexpected reply'}`, `run it by hand: ${peer.describe}`);
    }
    peer.ready = first;
    return peer;
  }

  private async next(timeoutMs: number): Promise<PeerLine> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      while (this.lines.length > 0) {
        const parsed = parsePeerLine(this.lines.shift()!);
        if (parsed) return parsed;
      }
      if (this.exited) {
        throw new EdgespecError('bench-tflite-peer', `the tflite peer ended: ${this.log.trim().split('\n').slice(-2).join(' | ') || 'no message'}`, `run it by hand: ${this.describe}`);
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        this.close();
        throw new EdgespecError('bench-tflite-peer', `the tflite peer did not answer within ${Math.round(timeoutMs / 1000)} s`, `run it by hand: ${this.describe}`);
      }
      await new Promise<void>(resolve => {
        const timer = setTimeout(resolve, Math.min(left, 1000));
        this.waiting = () => { clearTimeout(timer); resolve(); };
      });
      this.waiting = undefined;
    }
  }

  /** `warmup` untimed invokes, then the times of `runs` invokes (perf_counter_ns in the peer). */
  async time(runs: number, warmup: number, timeoutMs: number): Promise<number[]> {
    this.child.stdin!.write(`time ${runs} ${warmup}\n`);
    const answer = await this.next(timeoutMs);
    if (answer.event !== 'times') throw new EdgespecError('bench-tflite-peer', `the tflite peer answered ${answer.event === 'error' ? answer.message : answer.event} to a timing request`, `run it by hand: ${this.describe}`);
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
