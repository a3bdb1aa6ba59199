import { existsSync, promises as fs } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { defaultBuildDir } from '../../common/targets';
import { loadTarget } from '../build/targets';
import { Footprint, Measured, RunReport } from '../../common/types';
import { buildBundle } from '../build/buildBundle';
import { loadBundle } from '../bundle/loadBundle';
import { findTool } from '../tools/tools';
import { EdgespecError } from '../errors';
import { Reporter } from '../events';
import { computeAgreement, INT8_TOLERANCE_SCALE, TOLERANCE_SCALE } from '../run/agreement';
import { writeFileAtomic } from '../run/atomicWrite';
import { toNumbers } from '../bundle/dtype';
import { runBuild } from '../run/runBuild';
import { benchMarkdown } from './benchMarkdown';
import { BenchDtype, BenchModel, BenchReport } from './benchTypes';
import { BenchEntry, benchPlan, DEFAULT_MODELS, describeDtypes, ISSUE_MODELS } from './benchPlan';
import { benchPortable } from './benchPortable';
import { quantizeOnnx } from './ortQuantize';
import { BENCH_INPUT_SHAPE, BENCH_SEED, ensureBundle } from './ensureBundle';
import { timeHost } from './hostLatency';
import { openOnnxruntime, OnnxruntimeSession, PeerInput } from './onnxruntimePeer';
import { ensureArm64Sysroot } from './arm64Peer';
import { startTorch, timeTorch, TorchReady } from './torchPeer';
import { LinePeer } from './linePeer';
import { interleaveRounds, Round, summariseRounds, TimeRound } from './rounds';
import { median } from './stats';
import { benchEmulated, EmulatedSettings } from './benchEmulated';
import { benchStream } from './benchStream';

export { DEFAULT_MODELS };

export interface BenchOptions {
  models: string[];
  /** Every model in each of these; absent: float32 for all, int8 too for DEFAULT_INT8_MODELS. */
  dtypes?: BenchDtype[];
  cacheDir: string;
  outDir: string;
  /** Interleaved timing rounds (edgespec, then each peer, in every round); each side's cell is the median over rounds. */
  rounds: number;
  /** Per round: timed runs of each peer and of the host executable (which also counts `warmup` in its --repeat). */
  runs: number;
  warmup: number;
  onnxruntime: boolean;
  torch: boolean;
  /** linux under qemu-aarch64 against onnxruntime's arm64 build under the same emulator. */
  arm64?: boolean;
  /** Models whose qemu-virt image is also built with --kernel-variant portable; absent: ISSUE_MODELS. */
  portableModels?: string[];
  /** Stream this many copies of the reference input through one qemu-virt boot, against as many boots; absent: skipped. */
  streamInputs?: number;
  reporter: Reporter;
}

export interface BenchOutcome {
  report: BenchReport;
  markdownFile: string;
  jsonFile: string;
}

const HOST_TIMEOUT_S = 600;
const PEER_START_S = 600;
const PEER_ROUND_S = 600;
/** Timed calls per round under qemu-aarch64 at most (each side; the rounds multiply them). */
const EMULATED_RUNS = 3;

const measured = (value: number, how: string): Measured => ({ value, how });

function errorText(e: unknown): string {
  if (e instanceof EdgespecError) return `${e.message}${e.hint ? ` (fix: ${e.hint})` : ''}`;
  return e instanceof Error ? e.message : String(e);
}

function recordRun(row: BenchModel, report: RunReport): void {
  row.runs.push({
    target: report.target,
    status: report.status,
    ...(report.agreement ? { max_abs_error: report.agreement.max_abs_error, tolerance: report.agreement.tolerance, top1_match: report.agreement.top1_match, top5_match: report.agreement.top5_match } : {})
  });
  if (report.status !== 'ok') row.errors.push(`${report.target} run: ${report.status}${report.error ? `: ${report.error}` : ''}`);
}

function recordFootprint(row: BenchModel, footprint: Footprint): void {
  row.image_bytes = footprint.totals.image_bytes;
  row.weights_bytes = footprint.totals.weights_bytes;
  row.overhead_bytes = footprint.totals.overhead_bytes;
  row.arena_bytes = measured(footprint.arena.bytes, footprint.arena.how);
  row.arena_lower_bound = measured(footprint.arena.lower_bound, footprint.arena.how);
}

/** Builds and runs one target; returns the build directory, or undefined when it failed (recorded). */
async function buildAndRun(row: BenchModel, dtype: BenchDtype, bundleDir: string, target: 'qemu-virt' | 'host', cacheDir: string, reporter: Reporter): Promise<string | undefined> {
  const outDir = defaultBuildDir(path.join(cacheDir, row.model), target, dtype);
  try {
    reporter.log(`${row.model}: building ${target}${dtype === 'int8' ? ' --dtype int8' : ''}`);
    const built = await buildBundle({ bundleDir, target, outDir, dtype });
    if (target === 'qemu-virt') recordFootprint(row, built.footprint);
    reporter.log(`${row.model}: running ${target}`);
    const { report } = await runBuild({ buildDir: outDir, reporter: { ...reporter, progress: () => undefined } });
    recordRun(row, report);
    if (target === 'qemu-virt') {
      if (report.guest_instructions) row.guest_instructions = report.guest_instructions;
      row.qemu_wall_ms = report.wall_ms;
    }
    return report.status === 'ok' ? outDir : undefined;
  } catch (e) {
    row.errors.push(`${target}: ${errorText(e)}`);
    return undefined;
  }
}

/**
 * onnxruntime's own int8 model: the fp32 export (made by the PyTorch peer when missing)
 * quantized statically by onnxruntime.quantization. Returns its path, or undefined (recorded).
 */
async function prepareOnnxruntimeInt8(row: BenchModel, bundleDir: string, onnxFile: string, reporter: Reporter): Promise<string | undefined> {
  const int8File = onnxFile.replace(/\.onnx$/, '.int8.onnx');
  try {
    if (!existsSync(onnxFile)) {
      reporter.log(`${row.model}: exporting ONNX (the PyTorch peer)`);
      await timeTorch(row.model, bundleDir, onnxFile, 1, 0);
    }
    reporter.log(`${row.model}: quantizing the ONNX model with onnxruntime.quantization`);
    const made = await quantizeOnnx(onnxFile, bundleDir, int8File);
    if (made) reporter.log(`${row.model}: ${path.basename(int8File)}: ${made.bytes} bytes in ${made.quantize_s.toFixed(1)} s (onnxruntime ${made.onnxruntime_version})`);
    return int8File;
  } catch (e) {
    row.errors.push(`onnxruntime int8 peer: ${errorText(e)}`);
    return undefined;
  }
}

/** Opens onnxruntime on `file` and checks its first run against the reference (int8: as `edgespec run` judges int8 images). */
async function openOnnxruntimePeer(row: BenchModel, file: string, inputs: PeerInput[], reference: Float64Array, int8: boolean): Promise<OnnxruntimeSession | undefined> {
  try {
    const ort = await openOnnxruntime(file, inputs.map(i => ({ dtype: i.dtype, shape: i.shape, data: i.data })));
    const { agreement } = computeAgreement([{ output: ort.output, reference }], int8 ? INT8_TOLERANCE_SCALE : TOLERANCE_SCALE);
    if (int8 && (!agreement.within_tolerance || !agreement.top1_match)) {
      row.errors.push(`onnxruntime int8's output differs from the bundle reference: max abs error ${agreement.max_abs_error.toExponential(2)} (int8 tolerance ${agreement.tolerance.toExponential(2)}), top-1 ${agreement.top1_match ? 'same' : `${agreement.top5[0]} instead of ${agreement.reference_top5[0]}`}`);
    } else if (!agreement.within_tolerance) {
      row.errors.push(`onnxruntime's output differs from the bundle reference by ${agreement.max_abs_error.toExponential(2)} (tolerance ${agreement.tolerance.toExponential(2)})`);
    }
    return ort;
  } catch (e) {
    row.errors.push(`onnxruntime${int8 ? ' int8' : ''} peer: ${errorText(e)}`);
    return undefined;
  }
}

/** Starts the PyTorch peer (which exports the ONNX model when it is missing) and checks its output. */
async function startTorchPeer(row: BenchModel, bundleDir: string, onnxFile: string, reference: Float64Array, reporter: Reporter): Promise<LinePeer<TorchReady> | undefined> {
  try {
    reporter.log(`${row.model}: starting PyTorch${existsSync(onnxFile) ? '' : ' (it exports the ONNX model first)'}`);
    const torch = await startTorch(row.model, bundleDir, onnxFile, PEER_START_S);
    const ready = torch.ready!;
    if (ready.max_abs_error_vs_reference > TOLERANCE_SCALE * reference.reduce((m, v) => Math.max(m, Math.abs(v)), 0)) {
      row.errors.push(`the PyTorch peer's output differs from the bundle reference by ${ready.max_abs_error_vs_reference.toExponential(2)}: it may not compute the same model (weights: ${ready.weights})`);
    }
    return torch;
  } catch (e) {
    row.errors.push(`PyTorch peer: ${errorText(e)}`);
    return undefined;
  }
}

async function benchModel({ model, dtype, portable }: BenchEntry, opts: BenchOptions, machine: BenchReport['machine'], emulated?: EmulatedSettings): Promise<BenchModel> {
  const { reporter } = opts;
  const row: BenchModel = { model, dtype, agrees: false, runs: [], errors: [] };
  let bundleDir: string;
  let inputs: PeerInput[];
  let reference: Float64Array;
  try {
    bundleDir = await ensureBundle(model, opts.cacheDir, reporter);
    const bundle = await loadBundle(bundleDir);
    inputs = bundle.graph.reference.inputs.map(name => bundle.reference.tensors.get(name)!);
    const output = bundle.reference.tensors.get(bundle.graph.reference.outputs[0])!;
    reference = toNumbers(output.data, output.dtype);
  } catch (e) {
    row.errors.push(`bundle: ${errorText(e)}`);
    return row;
  }

  const qemuDir = await buildAndRun(row, dtype, bundleDir, 'qemu-virt', opts.cacheDir, reporter);
  const hostDir = await buildAndRun(row, dtype, bundleDir, 'host', opts.cacheDir, reporter);
  row.agrees = row.runs.length === 2 && row.runs.every(r => r.status === 'ok');
  if (portable) await benchPortable(row, dtype, bundleDir, opts.cacheDir, reporter);
  if (qemuDir && opts.streamInputs) await benchStream(row, qemuDir, opts.streamInputs, reporter);

  const int8 = dtype === 'int8';
  const onnxFile = path.join(opts.cacheDir, model, `${model}.onnx`);
  // PyTorch has no int8 row: eager int8 is a different quantization, not the same model
  const torch = !int8 && (opts.torch || (opts.onnxruntime && !existsSync(onnxFile))) ? await startTorchPeer(row, bundleDir, onnxFile, reference, reporter) : undefined;
  if (torch) machine.torch = torch.ready!.torch_version;
  if (torch && !opts.torch) torch.close(); // it only exported the ONNX model
  const peerFile = !opts.onnxruntime ? undefined : int8 ? await prepareOnnxruntimeInt8(row, bundleDir, onnxFile, reporter) : existsSync(onnxFile) ? onnxFile : undefined;
  const ort = peerFile ? await openOnnxruntimePeer(row, peerFile, inputs, reference, int8) : undefined;
  if (ort) machine.onnxruntime = ort.version;
  try {
    if (hostDir) await timeHostAgainstPeers(row, hostDir, inputs, ort, opts.torch ? torch : undefined, opts);
  } finally {
    await ort?.close();
    torch?.close();
  }
  if (emulated && peerFile) await benchEmulated(row, dtype, bundleDir, peerFile, inputs, reference, emulated, opts.cacheDir, reporter);
  return row;
}

/**
 * The host executable against onnxruntime and PyTorch (those given) in interleaved rounds:
 * host, onnxruntime, PyTorch, host, onnxruntime, PyTorch, ... (rounds.ts, as the tiny section).
 * Without peers the host is timed in one round.
 */
async function timeHostAgainstPeers(row: BenchModel, hostDir: string, inputs: PeerInput[], ort: OnnxruntimeSession | undefined, torch: LinePeer<TorchReady> | undefined, opts: BenchOptions): Promise<void> {
  const { reporter, runs, warmup } = opts;
  const int8 = row.dtype === 'int8';
  const kind = int8 ? 'int8 ' : '';
  const repeats = runs + warmup;
  const rounds = ort || torch ? opts.rounds : 1;
  const peers: Partial<Record<'onnxruntime' | 'torch', TimeRound>> = {};
  if (ort) peers.onnxruntime = async () => median(await ort.time(runs, warmup));
  if (torch) peers.torch = async () => median(await torch.time(runs, warmup, PEER_ROUND_S * 1000));
  const roundsHow = `${rounds} interleaved round${rounds === 1 ? '' : 's'} (in each, the host executable, then ${[ort ? 'onnxruntime' : '', torch ? 'PyTorch' : ''].filter(Boolean).join(', then ') || 'no peer'}); this column is the median over rounds of each round's median`;
  let hostRounds: number[] = [];
  let byPeer: Partial<Record<'onnxruntime' | 'torch', Round[]>> = {};
  try {
    reporter.log(`${row.model}: ${rounds} interleaved round${rounds === 1 ? '' : 's'}: the host executable (--repeat ${repeats})${ort ? `, onnxruntime${int8 ? ' int8' : ''}` : ''}${torch ? ', PyTorch' : ''} (${runs} runs each)`);
    byPeer = await interleaveRounds(rounds, async () => {
      const ms = (await timeHost(hostDir, inputs.map(i => i.data), repeats, HOST_TIMEOUT_S)).median_ms;
      hostRounds.push(ms);
      return ms;
    }, peers as Record<string, TimeRound>);
  } catch (e) {
    row.errors.push(`host timing against the peers: ${errorText(e)}`);
    byPeer = {};
    if (hostRounds.length === 0) {
      try {
        hostRounds = [(await timeHost(hostDir, inputs.map(i => i.data), repeats, HOST_TIMEOUT_S)).median_ms];
      } catch (again) {
        row.errors.push(`host timing: ${errorText(again)}`);
      }
    }
  }
  if (hostRounds.length === 0) return;
  row.host_ms = measured(median(hostRounds), `${int8 ? 'the int8 image (edgespec build --dtype int8, calibrated on the reference input): ' : ''}the host executable's --repeat ${repeats}: median CLOCK_MONOTONIC time of one es_model_invoke call over ${repeats} calls in one process (the first, cold call included), -O3 for this machine's CPU, one thread; ${roundsHow}`);
  if (ort && byPeer.onnxruntime) {
    const s = summariseRounds(byPeer.onnxruntime);
    row.onnxruntime_ms = measured(s.peer_ms, `onnxruntime-node ${ort.version} (CPU), intraOpNumThreads 1, interOpNumThreads 1, sequential, all graph optimizations, ${int8 ? 'on the fp32 export statically quantized by onnxruntime.quantization.quantize_static (quant_pre_process first; QDQ format, per-channel int8 weights, int8 activations, MinMax calibration on the bundle\'s reference input, the set edgespec calibrates on)' : 'on the model exported by torch.onnx.export(dynamo=True)'}, one session for all rounds (its first run checked against the reference): median of ${runs} session.run calls after ${warmup} warm-up calls per round (process.hrtime); ${roundsHow}`);
    row.host_vs_onnxruntime = measured(s.ratio, `host ${kind}ms / onnxruntime ${kind}ms of the same round: the median of ${s.rounds} per-round ratios on this machine (below 1: edgespec is faster)`);
    row.round_ratios = { ...row.round_ratios, host_vs_onnxruntime: { min: s.ratio_min, max: s.ratio_max, rounds: s.rounds } };
  }
  if (torch && byPeer.torch) {
    const s = summariseRounds(byPeer.torch);
    const ready = torch.ready!;
    row.torch_ms = measured(s.peer_ms, `PyTorch ${ready.torch_version} eager, torch.set_num_threads(1), inference_mode, in one process for all rounds (src/toolchain/bench/python/torch_peer.py --serve): median of ${runs} calls after ${warmup} warm-up calls per round (time.perf_counter_ns); weights: ${ready.weights}; ${roundsHow}`);
    row.host_vs_torch = measured(s.ratio, `host ms / PyTorch ms of the same round: the median of ${s.rounds} per-round ratios on this machine (below 1: edgespec is faster)`);
    row.round_ratios = { ...row.round_ratios, host_vs_torch: { min: s.ratio_min, max: s.ratio_max, rounds: s.rounds } };
  }
}

/** The emulated columns' settings, or why they are skipped (no sysroot, no onnxruntime, no ONNX export). */
async function prepareEmulated(opts: BenchOptions): Promise<EmulatedSettings | string> {
  if (!opts.onnxruntime) return 'left out with --no-onnxruntime';
  try {
    opts.reporter.log('making the arm64 Node.js sysroot for onnxruntime under qemu-aarch64 (once)');
    const sysroot = await ensureArm64Sysroot();
    // emulation is ~100x slower than native: fewer calls per round keep ResNet18 to a few minutes
    return { sysroot, rounds: opts.rounds, runs: Math.min(opts.runs, EMULATED_RUNS), warmup: Math.min(opts.warmup, 1) };
  } catch (e) {
    const why = errorText(e);
    opts.reporter.log(`skipping the qemu-aarch64 columns: ${why}`, 'warn');
    return why;
  }
}

async function describeMachine(): Promise<BenchReport['machine']> {
  const qemu = await findTool('qemu-system-aarch64');
  return {
    cpu: os.cpus()[0]?.model.trim() ?? 'unknown',
    cores: os.cpus().length,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.versions.node,
    fp32_blocks: loadTarget('host').cpu.note,
    ...(qemu.version ? { qemu: qemu.version } : {})
  };
}

/** `npm run bench`: per model, capture (if needed), build both targets, run, time the peers, write the tables. */
export async function runBench(opts: BenchOptions): Promise<BenchOutcome> {
  const report: BenchReport = {
    format: 'edgespec.bench',
    version: 1,
    date: new Date().toISOString(),
    machine: await describeMachine(),
    settings: {
      rounds: opts.rounds,
      runs: opts.runs,
      warmup: opts.warmup,
      host_repeats: opts.runs + opts.warmup,
      dtypes: describeDtypes(opts.dtypes),
      input: `each bundle's reference input: seeded random normal, shape ${BENCH_INPUT_SHAPE}, float32 (capture --seed ${BENCH_SEED})`
    },
    models: []
  };
  const portableModels = opts.portableModels ?? ISSUE_MODELS;
  const plan = benchPlan(opts.models, opts.dtypes, portableModels);
  report.settings.portable_models = opts.models.filter(m => portableModels.includes(m));
  if (opts.streamInputs) report.settings.stream_inputs = opts.streamInputs;
  let emulated: EmulatedSettings | undefined;
  if (opts.arm64 === false) report.arm64_peer_skipped = 'left out with --no-arm64';
  else {
    const prepared = await prepareEmulated(opts);
    if (typeof prepared === 'string') report.arm64_peer_skipped = prepared;
    else {
      emulated = prepared;
      report.settings.emulated_runs = prepared.runs;
      report.settings.emulated_warmup = prepared.warmup;
    }
  }
  for (const [i, entry] of plan.entries()) {
    opts.reporter.progress('bench', i, plan.length, `${entry.model} ${entry.dtype}`);
    report.models.push(await benchModel(entry, opts, report.machine, emulated));
  }
  opts.reporter.progress('bench', plan.length, plan.length);
  await fs.mkdir(opts.outDir, { recursive: true });
  const jsonFile = path.join(opts.outDir, 'bench.json');
  const markdownFile = path.join(opts.outDir, 'bench.md');
  await writeFileAtomic(jsonFile, JSON.stringify(report, null, 2) + '\n');
  await writeFileAtomic(markdownFile, benchMarkdown(report));
  return { report, markdownFile, jsonFile };
}
