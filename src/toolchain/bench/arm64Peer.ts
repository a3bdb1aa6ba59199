import execa from 'execa';
import { promises as fs } from 'fs';
import { homedir, tmpdir } from 'os';
import * as path from 'path';
import { requireTool } from '../tools/tools';
import { EdgespecError } from '../errors';
import { repoPath } from '../paths';
import { readBuildDir } from '../run/buildDir';
import { numberField, parseGuestConsole } from '../run/guestConsole';
import { INPUT_FILE, OUTPUT_FILE } from '../run/guestCommand';
import { encodeIoFile, IO_KIND_INPUTS } from '../guest/ioFile';
import { launch } from '../run/launch';
import { linuxCommand } from '../run/linuxCommand';
import { LinePeer, parseLinePeerLine } from './linePeer';
import { PeerInput } from './onnxruntimePeer';

export const SYSROOT_SCRIPT = repoPath('scripts', 'arm64-peer-sysroot.sh');
const ORT_PEER_SCRIPT = repoPath('src', 'toolchain', 'bench', 'arm64', 'ort_peer.js');
const SYSROOT_TIMEOUT_MS = 15 * 60 * 1000;
/** The CPU both AArch64 programs are emulated as (the linux target is compiled for it). */
export const EMULATED_CPU = 'cortex-a72';

export function defaultSysroot(): string {
  return process.env.EDGESPEC_ARM64_SYSROOT ?? path.join(homedir(), '.cache', 'edgespec', 'arm64-sysroot');
}

/**
 * Makes (or finds) the arm64 Node.js sysroot with scripts/arm64-peer-sysroot.sh. Returns its
 * path, or throws an EdgespecError saying why it could not be made (the bench then leaves the
 * emulated columns out and says so).
 */
export async function ensureArm64Sysroot(): Promise<string> {
  const sysroot = defaultSysroot();
  const run = await execa('bash', [SYSROOT_SCRIPT, sysroot], { reject: false, timeout: SYSROOT_TIMEOUT_MS, all: true });
  if (run.exitCode !== 0) {
    const said = (run.all ?? '').trim().split('\n').filter(l => l.trim()).slice(-2).join(' | ');
    throw new EdgespecError('bench-arm64-sysroot', `the arm64 Node.js sysroot for onnxruntime under qemu-aarch64 could not be made: ${said || (run.timedOut ? 'timed out' : `exit ${run.exitCode}`)}`, `run it by hand to see why: bash ${SYSROOT_SCRIPT}`);
  }
  return sysroot;
}

export interface EmulatedTiming {
  median_ms: number;
  fastest_ms: number;
  runs: number;
}

/** The linux executable under qemu-aarch64 with --repeat: the runner's own median of one es_model_invoke. */
export async function timeLinux(buildDir: string, inputs: Buffer[], repeats: number, timeoutS: number): Promise<EmulatedTiming> {
  const build = await readBuildDir(buildDir);
  if (build.target !== 'linux') throw new Error(`internal: ${buildDir} is a ${build.target} build, not linux`);
  const qemu = (await requireTool('qemu-aarch64')).path;
  const work = await fs.mkdtemp(path.join(tmpdir(), 'edgespec-bench-linux-'));
  try {
    await fs.writeFile(path.join(work, INPUT_FILE), encodeIoFile(IO_KIND_INPUTS, inputs));
    const guest = linuxCommand(build, qemu, work, ['--repeat', String(repeats)]);
    const run = await launch({ command: guest.command, args: guest.args, cwd: work, timeoutMs: timeoutS * 1000 });
    const parsed = parseGuestConsole(run.console);
    const med = numberField(parsed, 'invoke_ns_median');
    const fastest = numberField(parsed, 'invoke_ns');
    if (run.exitCode !== 0 || med === undefined || fastest === undefined) {
      const why = run.timedOut ? `did not finish within ${timeoutS} s` : parsed.errors.join('; ') || `exited with ${run.exitCode ?? run.signal}`;
      throw new EdgespecError('bench-linux-failed', `timing the linux executable under qemu-aarch64 failed: ${why}`, `run it by hand: qemu-aarch64 -cpu ${EMULATED_CPU} ${build.image} ${INPUT_FILE} ${OUTPUT_FILE} --repeat ${repeats}`);
    }
    return { median_ms: med / 1e6, fastest_ms: fastest / 1e6, runs: repeats };
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
}

/** What onnxruntime's arm64 peer says once its session is made and run once. */
export interface OrtArm64Ready {
  version: string;
  /** The first output of that run, to check the peer computes the same function. */
  output: number[];
}

function ortArm64Ready(v: Record<string, unknown>): OrtArm64Ready | undefined {
  if (!Array.isArray(v.output)) return undefined;
  return { version: String(v.version ?? 'unknown'), output: (v.output as unknown[]).map(Number) };
}

/**
 * onnxruntime-node's AArch64 build in Debian's arm64 Node.js, under the same qemu-aarch64
 * and CPU as the linux target (one intra-op thread, sequential), kept running: ask it for
 * timing rounds with time(RUNS, WARMUP) (process.hrtime inside the emulated process), close() it.
 */
export async function startOnnxruntimeArm64(sysroot: string, onnxFile: string, inputs: PeerInput[], timeoutS: number): Promise<LinePeer<OrtArm64Ready>> {
  const qemu = (await requireTool('qemu-aarch64')).path;
  const work = await fs.mkdtemp(path.join(tmpdir(), 'edgespec-bench-ort-arm64-'));
  try {
    const described = await Promise.all(inputs.map(async (input, i) => {
      const file = path.join(work, `input-${i}.bin`);
      await fs.writeFile(file, input.data);
      return { dtype: input.dtype, shape: input.shape, file };
    }));
    const inputsFile = path.join(work, 'inputs.json');
    await fs.writeFile(inputsFile, JSON.stringify(described));
    const command = {
      command: qemu,
      args: ['-L', sysroot, path.join(sysroot, 'usr', 'bin', 'node'), ORT_PEER_SCRIPT, path.join(sysroot, 'opt', 'onnxruntime-node'), path.resolve(onnxFile), inputsFile],
      env: { ...process.env, QEMU_CPU: EMULATED_CPU }
    };
    try {
      // the peer has read its inputs once it is ready
      return await LinePeer.start(command, timeoutS * 1000, "onnxruntime's arm64 build under qemu-aarch64", line => parseLinePeerLine(line, ortArm64Ready));
    } catch (e) {
      if (e instanceof EdgespecError) throw new EdgespecError(e.code, e.message, `${e.hint ?? ''}; or rebuild the sysroot (delete ${sysroot} and run bash ${SYSROOT_SCRIPT})`);
      throw e;
    }
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
}
