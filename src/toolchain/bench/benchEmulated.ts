import * as path from 'path';
import { defaultBuildDir } from '../../common/targets';
import { Measured } from '../../common/types';
import { buildBundle } from '../build/buildBundle';
import { EdgespecError } from '../errors';
import { Reporter } from '../events';
import { computeAgreement, INT8_TOLERANCE_SCALE, TOLERANCE_SCALE } from '../run/agreement';
import { runBuild } from '../run/runBuild';
import { EMULATED_CPU, timeLinux, timeOnnxruntimeArm64 } from './arm64Peer';
import { BenchDtype, BenchModel } from './benchTypes';
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
 * int8: the linux target built with --dtype int8 (calibrated on the reference input) against
 * onnxruntime on `onnxFile`, its own statically quantized model, both judged as int8.
 */
export async function benchEmulated(row: BenchModel, dtype: BenchDtype, bundleDir: string, onnxFile: string, inputs: PeerInput[], reference: Float64Array, settings: EmulatedSettings, cacheDir: string, reporter: Reporter): Promise<void> {
  const repeats = settings.runs + settings.warmup;
  const int8 = dtype === 'int8';
  const outDir = defaultBuildDir(path.join(cacheDir, row.model), 'linux', dtype);
  try {
    reporter.log(`${row.model}: building linux${int8 ? ' --dtype int8' : ''}`);
    await buildBundle({ bundleDir, target: 'linux', outDir, dtype });
    const { report } = await runBuild({ buildDir: outDir, reporter: { ...reporter, progress: () => undefined } });
    row.runs.push({ target: 'linux', status: report.status, ...(report.agreement ? { max_abs_error: report.agreement.max_abs_error, tolerance: report.agreement.tolerance, top1_match: report.agreement.top1_match, top5_match: report.agreement.top5_match } : {}) });
    if (report.status !== 'ok') throw new Error(`the linux run under qemu-aarch64 ended ${report.status}${report.error ? `: ${report.error}` : ''}`);
    reporter.log(`${row.model}: timing linux under qemu-aarch64 (${repeats} calls)`);
    const linux = await timeLinux(outDir, inputs.map(i => i.data), repeats, EMULATED_TIMEOUT_S);
    row.linux_qemu_ms = measured(linux.median_ms, `${int8 ? 'the int8 linux executable (edgespec build --dtype int8 --target linux, calibrated on the reference input; ' : 'the linux executable ('}static, -O3 -mcpu=${EMULATED_CPU}) under qemu-aarch64 -cpu ${EMULATED_CPU} with --repeat ${repeats}: median CLOCK_MONOTONIC time of one es_model_invoke call over ${repeats} calls in one process (the first included), one thread`);
  } catch (e) {
    row.errors.push(`linux under qemu-aarch64: ${errorText(e)}`);
  }
  try {
    reporter.log(`${row.model}: timing onnxruntime${int8 ? ' int8' : ''} arm64 under qemu-aarch64 (${repeats} calls)`);
    const ort = await timeOnnxruntimeArm64(settings.sysroot, onnxFile, inputs, settings.runs, settings.warmup, EMULATED_TIMEOUT_S);
    row.onnxruntime_arm64_ms = measured(ort.median_ms, `onnxruntime-node ${ort.version}'s linux/arm64 build in Debian's arm64 Node.js under qemu-aarch64 -cpu ${EMULATED_CPU} (QEMU_CPU; /proc/cpuinfo of one ARM core in the sysroot), intraOpNumThreads 1, sequential, all graph optimizations${int8 ? ', on the same quantize_static QDQ model as the onnxruntime int8 column' : ''}: median of ${ort.runs} session.run calls after ${ort.warmup} warm-up calls (process.hrtime inside the emulated process)`);
    const { agreement } = computeAgreement([{ output: ort.output, reference }], int8 ? INT8_TOLERANCE_SCALE : TOLERANCE_SCALE);
    if (!agreement.within_tolerance || (int8 && !agreement.top1_match)) {
      row.errors.push(`onnxruntime${int8 ? ' int8' : ''} arm64's output differs from the bundle reference: max abs error ${agreement.max_abs_error.toExponential(2)} (tolerance ${agreement.tolerance.toExponential(2)})${int8 ? `, top-1 ${agreement.top1_match ? 'same' : `${agreement.top5[0]} instead of ${agreement.reference_top5[0]}`}` : ''}`);
    }
  } catch (e) {
    row.errors.push(`onnxruntime${int8 ? ' int8' : ''} arm64 under qemu-aarch64: ${errorText(e)}`);
  }
  if (row.linux_qemu_ms && row.onnxruntime_arm64_ms) {
    const kind = int8 ? 'int8 ' : '';
    row.linux_vs_onnxruntime_arm64 = measured(row.linux_qemu_ms.value / row.onnxruntime_arm64_ms.value, `linux ${kind}ms / onnxruntime arm64 ${kind}ms, both under qemu-aarch64 -cpu ${EMULATED_CPU} in this run on this machine (below 1: edgespec is faster)`);
  }
}
