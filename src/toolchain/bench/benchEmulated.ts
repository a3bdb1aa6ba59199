import * as path from 'path';
import { Measured } from '../../common/types';
import { buildBundle } from '../build/buildBundle';
import { EdgespecError } from '../errors';
import { Reporter } from '../events';
import { computeAgreement } from '../run/agreement';
import { runBuild } from '../run/runBuild';
import { EMULATED_CPU, timeLinux, timeOnnxruntimeArm64 } from './arm64Peer';
import { BenchModel } from './benchTypes';
import { PeerInput } from './onnxruntimePeer';

export interface EmulatedSettings {
  sysroot: string;
  runs: number;
  warmup: number;
}

const EMULATED_TIMEOUT_S = 1800;
const measured = (value: number, how: string): Measured => ({ value, how });

function errorText(e: unknown): string {
  if (e instanceof EdgespecError) return `${e.message}${e.hint ? ` (fix: ${e.hint})` : ''}`;
  return e instanceof Error ? e.message : String(e);
}

/**
 * The side-by-side columns under qemu-aarch64: the linux target (checked against the
 * reference first) and onnxruntime's arm64 build, in the same run, the same emulator and CPU.
 */
export async function benchEmulated(row: BenchModel, bundleDir: string, onnxFile: string, inputs: PeerInput[], reference: Float64Array, settings: EmulatedSettings, cacheDir: string, reporter: Reporter): Promise<void> {
  const repeats = settings.runs + settings.warmup;
  const outDir = path.join(cacheDir, row.model, 'build', 'linux');
  try {
    reporter.log(`${row.model}: building linux`);
    await buildBundle({ bundleDir, target: 'linux', outDir });
    const { report } = await runBuild({ buildDir: outDir, reporter: { ...reporter, progress: () => undefined } });
    row.runs.push({ target: 'linux', status: report.status, ...(report.agreement ? { max_abs_error: report.agreement.max_abs_error, tolerance: report.agreement.tolerance, top5_match: report.agreement.top5_match } : {}) });
    if (report.status !== 'ok') throw new Error(`the linux run under qemu-aarch64 ended ${report.status}${report.error ? `: ${report.error}` : ''}`);
    reporter.log(`${row.model}: timing linux under qemu-aarch64 (${repeats} calls)`);
    const linux = await timeLinux(outDir, inputs.map(i => i.data), repeats, EMULATED_TIMEOUT_S);
    row.linux_qemu_ms = measured(linux.median_ms, `the linux executable (static, -O3 -mcpu=${EMULATED_CPU}) under qemu-aarch64 -cpu ${EMULATED_CPU} with --repeat ${repeats}: median CLOCK_MONOTONIC time of one es_model_invoke call over ${repeats} calls in one process (the first included), one thread`);
  } catch (e) {
    row.errors.push(`linux under qemu-aarch64: ${errorText(e)}`);
  }
  try {
    reporter.log(`${row.model}: timing onnxruntime arm64 under qemu-aarch64 (${repeats} calls)`);
    const ort = await timeOnnxruntimeArm64(settings.sysroot, onnxFile, inputs, settings.runs, settings.warmup, EMULATED_TIMEOUT_S);
    row.onnxruntime_arm64_ms = measured(ort.median_ms, `onnxruntime-node ${ort.version}'s linux/arm64 build in Debian's arm64 Node.js under qemu-aarch64 -cpu ${EMULATED_CPU} (QEMU_CPU; /proc/cpuinfo of one ARM core in the sysroot), intraOpNumThreads 1, sequential, all graph optimizations: median of ${ort.runs} session.run calls after ${ort.warmup} warm-up calls (process.hrtime inside the emulated process)`);
    const { agreement } = computeAgreement([{ output: ort.output, reference }]);
    if (!agreement.within_tolerance) row.errors.push(`onnxruntime arm64's output differs from the bundle reference by ${agreement.max_abs_error.toExponential(2)} (tolerance ${agreement.tolerance.toExponential(2)})`);
  } catch (e) {
    row.errors.push(`onnxruntime arm64 under qemu-aarch64: ${errorText(e)}`);
  }
  if (row.linux_qemu_ms && row.onnxruntime_arm64_ms) {
    row.linux_vs_onnxruntime_arm64 = measured(row.linux_qemu_ms.value / row.onnxruntime_arm64_ms.value, 'linux ms / onnxruntime arm64 ms, both under qemu-aarch64 -cpu cortex-a72 in this run on this machine (below 1: edgespec is faster)');
  }
}
