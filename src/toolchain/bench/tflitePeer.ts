import { homedir } from 'os';
import * as path from 'path';
import { repoPath } from '../paths';
import { pythonEnv } from '../tools/locate';
import { requireTool } from '../tools/tools';
import { EMULATED_CPU } from './arm64Peer';
import { LinePeer, LinePeerLine, parseLinePeerLine, PeerCommand } from './linePeer';

export type { PeerCommand } from './linePeer';

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

export type PeerLine = LinePeerLine<PeerReady>;

function tfliteReady(v: Record<string, unknown>): PeerReady | undefined {
  if ((v.runtime !== 'litert' && v.runtime !== 'tflm') || !Array.isArray(v.output)) return undefined;
  return {
    runtime: v.runtime,
    version: String(v.version ?? 'unknown'),
    input_dtype: String(v.input_dtype ?? 'unknown'),
    output_dtype: String(v.output_dtype ?? 'unknown'),
    machine: String(v.machine ?? 'unknown'),
    output: (v.output as unknown[]).map(Number),
    ...(typeof v.allocations === 'string' ? { allocations: v.allocations } : {})
  };
}

/** One line of tflite_peer.py's stdout as an event, or undefined for anything else (a runtime's log line). */
export function parsePeerLine(line: string): PeerLine | undefined {
  return parseLinePeerLine(line, tfliteReady);
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

/** A running tflite_peer.py (see LinePeer): started once, then asked for timing rounds. */
export type TflitePeer = LinePeer<PeerReady>;

export const TflitePeer = {
  start: (cmd: PeerCommand, timeoutMs: number): Promise<TflitePeer> =>
    LinePeer.start(cmd, timeoutMs, `the ${cmd.args.includes('tflm') ? 'TFLM' : 'LiteRT'} peer`, parsePeerLine)
};
