import * as path from 'path';
import { defaultBuildDir } from '../../common/targets';
import { Measured } from '../../common/types';
import { buildBundle } from '../build/buildBundle';
import { EdgespecError } from '../errors';
import { Reporter } from '../events';
import { computeAgreement, INT8_TOLERANCE_SCALE, TOLERANCE_SCALE } from '../run/agreement';
import { runBuild } from '../run/runBuild';
import { EMULATED_CPU, startOnnxruntimeArm64, timeLinux } from './arm64Peer';
import { BenchDtype, BenchModel } from './benchTypes';
import { PeerInput } from './onnxruntimePeer';
import { interleaveRounds, summariseRounds } from './rounds';
import { median } from './stats';

export interface EmulatedSettings {
  sysroot: string;
  /** Interleaved rounds, and per round: the peer's timed and untimed runs (edgespec: --repeat runs + warmup). */
  rounds: number;
  runs: number;
  warmup: number;
}

const EMULATED_TIMEOUT_S = 1800;
const measured = (value: number, how: string): Measured => ({ value, how });

function errorText(e: unknown): string {
  if (e instanceof EdgespecError) return `${e.message}${e.hint ? ` (fix: ${e.hint})` : ''}`;
  return e instanceof Error ? e.message : String(e);
}

/** Builds the linux target and checks it against the reference; returns its build directory, or undefined (recorded). */
async function buildLinux(row: BenchModel, dtype: BenchDtype, bundleDir: string, cacheDir: string, reporter: Reporter): Promise<string | undefined> {
  const outDir = defaultBuildDir(path.join(cacheDir, row.model), 'linux', dtype);
  try {
    reporter.log(`${row.model}: building linux${dtype === 'int8' ? ' --dtype int8' : ''}`);
    await buildBundle({ bundleDir, target: 'linux', outDir, dtype });
    const { report } = await runBuild({ buildDir: outDir, reporter: { ...reporter, progress: () => undefined } });
    row.runs.push({ target: 'linux', status: report.status, ...(report.agreement ? { max_abs_error: report.agreement.max_abs_error, tolerance: report.agreement.tolerance, top1_match: report.agreement.top1_match, top5_match: report.agreement.top5_match } : {}) });
    if (report.status !== 'ok') throw new Error(`the linux run under qemu-aarch64 ended ${report.status}${report.error ? `: ${report.error}` : ''}`);
    return outDir;
  } catch (e) {
    row.errors.push(`linux under qemu-aarch64: ${errorText(e)}`);
    return undefined;
  }
}

/**
 * The side-by-side columns under qemu-aarch64: the linux target (checked against the
 * reference first) and onnxruntime's arm64 build, the same emulator and CPU, in interleaved
 * rounds (linux, onnxruntime, linux, onnxruntime, ...; rounds.ts, as the other sections).
 * int8: the linux target built with --dtype int8 (calibrated on the reference input) against
 * onnxruntime on `onnxFile`, its own statically quantized model, both judged as int8.
 */
export async function benchEmulated(row: BenchModel, dtype: BenchDtype, bundleDir: string, onnxFile: string, inputs: PeerInput[], reference: Float64Array, settings: EmulatedSettings, cacheDir: string, reporter: Reporter): Promise<void> {
  const repeats = settings.runs + settings.warmup;
  const int8 = dtype === 'int8';
  const kind = int8 ? 'int8 ' : '';
  const linuxDir = await buildLinux(row, dtype, bundleDir, cacheDir, reporter);
  if (!linuxDir) return;
  let version = 'unknown';
  try {
    reporter.log(`${row.model}: starting onnxruntime${int8 ? ' int8' : ''} arm64 under qemu-aarch64`);
    const peer = await startOnnxruntimeArm64(settings.sysroot, onnxFile, inputs, EMULATED_TIMEOUT_S);
    try {
      version = peer.ready!.version;
      const { agreement } = computeAgreement([{ output: Float32Array.from(peer.ready!.output), reference }], int8 ? INT8_TOLERANCE_SCALE : TOLERANCE_SCALE);
      if (!agreement.within_tolerance || (int8 && !agreement.top1_match)) {
        row.errors.push(`onnxruntime${int8 ? ' int8' : ''} arm64's output differs from the bundle reference: max abs error ${agreement.max_abs_error.toExponential(2)} (tolerance ${agreement.tolerance.toExponential(2)})${int8 ? `, top-1 ${agreement.top1_match ? 'same' : `${agreement.top5[0]} instead of ${agreement.reference_top5[0]}`}` : ''}`);
      }
      reporter.log(`${row.model}: ${settings.rounds} interleaved rounds under qemu-aarch64, linux (--repeat ${repeats}) and onnxruntime arm64 (${settings.runs} runs)`);
      const rounds = await interleaveRounds(settings.rounds,
        async () => (await timeLinux(linuxDir, inputs.map(i => i.data), repeats, EMULATED_TIMEOUT_S)).median_ms,
        { onnxruntime: async () => median(await peer.time(settings.runs, settings.warmup, EMULATED_TIMEOUT_S * 1000)) });
      const s = summariseRounds(rounds.onnxruntime);
      const roundsHow = `${settings.rounds} interleaved rounds under qemu-aarch64 -cpu ${EMULATED_CPU} (in each, the linux executable, then onnxruntime arm64); this column is the median over rounds of each round's median`;
      row.linux_qemu_ms = measured(s.edgespec_ms, `${int8 ? 'the int8 linux executable (edgespec build --dtype int8 --target linux, calibrated on the reference input; ' : 'the linux executable ('}static, -O3 -mcpu=${EMULATED_CPU}) under qemu-aarch64 -cpu ${EMULATED_CPU} with --repeat ${repeats}: median CLOCK_MONOTONIC time of one es_model_invoke call over ${repeats} calls in one process (the first included), one thread; ${roundsHow}`);
      row.onnxruntime_arm64_ms = measured(s.peer_ms, `onnxruntime-node ${version}'s linux/arm64 build in Debian's arm64 Node.js under qemu-aarch64 -cpu ${EMULATED_CPU} (QEMU_CPU; /proc/cpuinfo of one ARM core in the sysroot), intraOpNumThreads 1, sequential, all graph optimizations${int8 ? ', on the same quantize_static QDQ model as the onnxruntime int8 column' : ''}, one session for all rounds (its first run checked against the reference): median of ${settings.runs} session.run calls after ${settings.warmup} warm-up calls per round (process.hrtime inside the emulated process); ${roundsHow}`);
      row.linux_vs_onnxruntime_arm64 = measured(s.ratio, `linux ${kind}ms / onnxruntime arm64 ${kind}ms of the same round, both under qemu-aarch64 -cpu ${EMULATED_CPU}: the median of ${s.rounds} per-round ratios (below 1: edgespec is faster)`);
      row.round_ratios = { ...row.round_ratios, linux_vs_onnxruntime_arm64: { min: s.ratio_min, max: s.ratio_max, rounds: s.rounds } };
    } finally {
      peer.close();
    }
  } catch (e) {
    row.errors.push(`onnxruntime${int8 ? ' int8' : ''} arm64 under qemu-aarch64: ${errorText(e)}`);
  }
}
