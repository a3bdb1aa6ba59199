import execa from 'execa';
import { existsSync, promises as fs } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Graph, Measured } from '../../common/types';
import { buildBundle } from '../build/buildBundle';
import { loadTarget } from '../build/targets';
import { loadBundle } from '../bundle/loadBundle';
import { EdgespecError } from '../errors';
import { Reporter } from '../events';
import { INT8_TOLERANCE_SCALE, TOLERANCE_SCALE } from '../run/agreement';
import { writeFileAtomic } from '../run/atomicWrite';
import { toNumbers } from '../bundle/dtype';
import { runBuild } from '../run/runBuild';
import { pythonEnv } from '../tools/locate';
import { findTool, requireTool } from '../tools/tools';
import { repoPath } from '../paths';
import { EMULATED_CPU, timeLinux } from './arm64Peer';
import { BenchDtype } from './benchTypes';
import { timeHost } from './hostLatency';
import { median } from './stats';
import { defaultLitertSysroot, emulatedPeerCommand, hostPeerCommand, LITERT_SYSROOT_SCRIPT, parseTflmAllocations, PeerCommand, TflitePeer } from './tflitePeer';
import { tinyMarkdown } from './tinyMarkdown';
import { compareOutputs } from './tinyStats';
import { interleaveRounds, Round, summariseRounds } from './rounds';
import { TINY_MODELS, TinyModel, TinyReport, TinyRow } from './tinyTypes';

export const TINY_MODELS_SCRIPT = repoPath('src', 'toolchain', 'bench', 'python', 'tiny_models.py');
export const TINY_SEED = 0;

export interface TinyOptions {
  models: TinyModel[];
  dtypes: BenchDtype[];
  cacheDir: string;
  outDir: string;
  /** Interleaved rounds on the host, each `hostRuns` timed invokes per side after `hostWarmup`. */
  rounds: number;
  hostRuns: number;
  hostWarmup: number;
  /** Under qemu-aarch64 (false: left out). */
  arm64: boolean;
  emulatedRounds: number;
  emulatedRuns: number;
  emulatedWarmup: number;
  tflm: boolean;
  tflmRuns: number;
  reporter: Reporter;
}

export const TINY_DEFAULTS = { rounds: 3, hostRuns: 200, hostWarmup: 20, emulatedRounds: 3, emulatedRuns: 8, emulatedWarmup: 2, tflmRuns: 20 };

const PEER_START_MS = 5 * 60 * 1000;
const PEER_ROUND_MS = 10 * 60 * 1000;
const measured = (value: number, how: string): Measured => ({ value, how });

function errorText(e: unknown): string {
  if (e instanceof EdgespecError) return `${e.message}${e.hint ? ` (fix: ${e.hint})` : ''}`;
  return e instanceof Error ? e.message : String(e);
}

export function tinyTflite(cacheDir: string, model: TinyModel, dtype: BenchDtype): string {
  return path.join(cacheDir, 'tiny', model, `${model}.${dtype}.tflite`);
}

export function tinyBundle(cacheDir: string, model: TinyModel, dtype: BenchDtype): string {
  return path.join(cacheDir, 'tiny', model, `bundle-${dtype}`);
}

/**
 * The .tflite files and their bundles in the cache, made when missing by tiny_models.py in one
 * Python process (TensorFlow only, never beside PyTorch).
 */
export async function ensureTinyModels(cacheDir: string, models: readonly TinyModel[], dtypes: readonly BenchDtype[], reporter: Reporter): Promise<void> {
  const missing = models.some(m => dtypes.some(d => !existsSync(path.join(tinyBundle(cacheDir, m, d), 'graph.json'))));
  if (!missing) return;
  const python = await requireTool('python');
  reporter.log(`making the tiny models (Keras -> TFLite converter -> edgespec capture) in ${path.join(cacheDir, 'tiny')}`);
  const args = [TINY_MODELS_SCRIPT, '--out', path.join(cacheDir, 'tiny'), '--models', models.join(','), '--dtypes', dtypes.join(','), '--seed', String(TINY_SEED), '--bundles'];
  const run = await execa(python.path, args, { reject: false, env: { ...pythonEnv(), TF_CPP_MIN_LOG_LEVEL: '2' }, extendEnv: false, all: true });
  if (run.exitCode !== 0) {
    throw new EdgespecError('bench-tiny-models', `making the tiny models failed: ${(run.all ?? '').trim().split('\n').slice(-3).join(' | ') || `exit ${run.exitCode}`}`, `run it by hand: ${python.path} ${args.join(' ')}`);
  }
}

/** The quantization step of an int8 bundle's output (the scale of what its final dequantize reads). */
export function outputStep(graph: Graph): number | undefined {
  const out = graph.outputs[0]?.tensor;
  const dq = graph.nodes.find(n => n.op === 'dequantize' && n.outputs.includes(out));
  const scale = dq ? graph.tensors[dq.inputs[0]]?.quantization?.scale : undefined;
  return scale && scale.length === 1 ? scale[0] : undefined;
}

type Target = 'qemu-virt' | 'host' | 'linux';

async function buildAndRun(row: TinyRow, bundleDir: string, target: Target, step: number | undefined, reporter: Reporter): Promise<string | undefined> {
  const outDir = path.join(path.dirname(bundleDir), 'build', `${target}-${row.dtype}`);
  try {
    reporter.log(`${row.model} ${row.dtype}: building ${target}`);
    const built = await buildBundle({ bundleDir, target, outDir, dtype: row.dtype });
    if (target === 'qemu-virt') {
      const fp = built.footprint;
      row.image_bytes = fp.totals.image_bytes;
      row.weights_bytes = fp.totals.weights_bytes;
      row.overhead_bytes = fp.totals.overhead_bytes;
      row.arena_bytes = measured(fp.arena.bytes, fp.arena.how);
      row.arena_lower_bound = measured(fp.arena.lower_bound, fp.arena.how);
    }
    reporter.log(`${row.model} ${row.dtype}: running ${target}`);
    const { report } = await runBuild({ buildDir: outDir, reporter: { ...reporter, progress: () => undefined } });
    const a = report.agreement;
    row.agreement.push({
      target, status: report.status,
      ...(a ? { max_abs_error: a.max_abs_error, tolerance: a.tolerance, top1_match: a.top1_match } : {}),
      ...(a && step ? { steps: a.max_abs_error / step } : {})
    });
    if (target === 'qemu-virt' && report.guest_instructions) row.guest_instructions = report.guest_instructions;
    if (report.status !== 'ok') row.errors.push(`${target} run: ${report.status}${report.error ? `: ${report.error}` : ''}`);
    return report.status === 'ok' ? outDir : undefined;
  } catch (e) {
    row.errors.push(`${target}: ${errorText(e)}`);
    return undefined;
  }
}

/** Starts a peer, checks its output against the reference, and runs `rounds` interleaved with `edgespec`. */
async function interleave(cmd: PeerCommand, rounds: number, runs: number, warmup: number, edgespec: () => Promise<number>, onReady: (peer: TflitePeer) => void): Promise<Round[]> {
  const peer = await TflitePeer.start(cmd, PEER_START_MS);
  try {
    onReady(peer);
    return (await interleaveRounds(rounds, edgespec, { peer: async () => median(await peer.time(runs, warmup, PEER_ROUND_MS)) })).peer;
  } finally {
    peer.close();
  }
}

async function benchRow(model: TinyModel, dtype: BenchDtype, opts: TinyOptions, report: TinyReport, sysroot: string | undefined): Promise<TinyRow> {
  const { reporter } = opts;
  const row: TinyRow = { model, dtype, agreement: [], agrees: false, errors: [] };
  const tflite = tinyTflite(opts.cacheDir, model, dtype);
  const bundleDir = tinyBundle(opts.cacheDir, model, dtype);
  let input: Buffer;
  let reference: Float64Array;
  let step: number | undefined;
  try {
    row.tflite_bytes = (await fs.stat(tflite)).size;
    const bundle = await loadBundle(bundleDir);
    input = bundle.reference.tensors.get(bundle.graph.reference.inputs[0])!.data;
    const out = bundle.reference.tensors.get(bundle.graph.reference.outputs[0])!;
    reference = toNumbers(out.data, out.dtype);
    step = dtype === 'int8' ? outputStep(bundle.graph) : undefined;
  } catch (e) {
    row.errors.push(`bundle: ${errorText(e)}`);
    return row;
  }
  const inputFile = path.join(path.dirname(bundleDir), `input-${dtype}.bin`);
  await fs.writeFile(inputFile, input);

  await buildAndRun(row, bundleDir, 'qemu-virt', step, reporter);
  const hostDir = await buildAndRun(row, bundleDir, 'host', step, reporter);
  const linuxDir = sysroot ? await buildAndRun(row, bundleDir, 'linux', step, reporter) : undefined;
  row.agrees = row.agreement.length > 0 && row.agreement.every(a => a.status === 'ok');

  const int8 = dtype === 'int8';
  const litertTolerance = (int8 ? INT8_TOLERANCE_SCALE : TOLERANCE_SCALE) * reference.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  if (hostDir) {
    try {
      reporter.log(`${model} ${dtype}: ${opts.rounds} interleaved rounds, edgespec host and LiteRT, ${opts.hostRuns} invokes each`);
      let version = '';
      const rounds = await interleave(await hostPeerCommand('litert', tflite, inputFile), opts.rounds, opts.hostRuns, opts.hostWarmup,
        async () => (await timeHost(hostDir, [input], opts.hostRuns + opts.hostWarmup, 600)).median_ms, peer => {
          version = peer.ready!.version;
          report.machine.litert = version;
          row.litert_max_abs_error = compareOutputs(peer.ready!.output, reference).max_abs_error;
          if (row.litert_max_abs_error > litertTolerance) row.errors.push(`LiteRT's output differs from tf.lite.Interpreter's by ${row.litert_max_abs_error.toExponential(2)}`);
        });
      row.host = {
        ...summariseRounds(rounds), peer: `LiteRT ${version}`,
        how: `${opts.rounds} interleaved rounds; in each, edgespec's host executable (--repeat ${opts.hostRuns + opts.hostWarmup}: median CLOCK_MONOTONIC time of one es_model_invoke, -O3 for this CPU, one thread), then LiteRT ${version} (ai_edge_litert Interpreter, num_threads=1, default delegate XNNPACK) on the same .tflite and input: median of ${opts.hostRuns} invoke() calls after ${opts.hostWarmup} untimed (time.perf_counter_ns, in a Python process started once). The ratio is the median of the per-round ratios`
      };
    } catch (e) {
      row.errors.push(`LiteRT host: ${errorText(e)}`);
    }
  }
  if (linuxDir && sysroot) {
    try {
      reporter.log(`${model} ${dtype}: ${opts.emulatedRounds} interleaved rounds under qemu-aarch64, edgespec linux and LiteRT arm64, ${opts.emulatedRuns} invokes each`);
      let version = '';
      const rounds = await interleave(await emulatedPeerCommand(sysroot, tflite, inputFile), opts.emulatedRounds, opts.emulatedRuns, opts.emulatedWarmup,
        async () => (await timeLinux(linuxDir, [input], opts.emulatedRuns + opts.emulatedWarmup, 1800)).median_ms, peer => {
          version = peer.ready!.version;
          const err = compareOutputs(peer.ready!.output, reference).max_abs_error;
          if (err > litertTolerance) row.errors.push(`LiteRT arm64's output differs from tf.lite.Interpreter's by ${err.toExponential(2)}`);
        });
      row.emulated = {
        ...summariseRounds(rounds), peer: `LiteRT ${version} aarch64`,
        how: `${opts.emulatedRounds} interleaved rounds under qemu-aarch64 -cpu ${EMULATED_CPU}; in each, edgespec's linux executable (static, -O3 -mcpu=${EMULATED_CPU}; --repeat ${opts.emulatedRuns + opts.emulatedWarmup}: median CLOCK_MONOTONIC time of one es_model_invoke), then LiteRT ${version}'s manylinux aarch64 wheel in Debian's arm64 Python (num_threads=1, XNNPACK; /proc/cpuinfo of one ARM core in the sysroot): median of ${opts.emulatedRuns} invoke() calls after ${opts.emulatedWarmup} untimed. The ratio is the median of the per-round ratios`
      };
    } catch (e) {
      row.errors.push(`LiteRT arm64 under qemu-aarch64: ${errorText(e)}`);
    }
  }
  if (!opts.tflm) row.tflm_unavailable = report.tflm_skipped ?? 'left out';
  else {
    try {
      reporter.log(`${model} ${dtype}: TensorFlow Lite Micro (arena, ${opts.tflmRuns} invokes)`);
      const peer = await TflitePeer.start(await hostPeerCommand('tflm', tflite, inputFile), PEER_START_MS);
      try {
        const ready = peer.ready!;
        report.machine.tflm = ready.version;
        const alloc = parseTflmAllocations(ready.allocations ?? '');
        if (!alloc) throw new Error(`print_allocations() printed no arena total: ${JSON.stringify((ready.allocations ?? '').slice(0, 200))}`);
        const times = await peer.time(opts.tflmRuns, 2, PEER_ROUND_MS);
          row.tflm = {
          version: ready.version, arena_total: alloc.total, arena_head: alloc.head, arena_tail: alloc.tail, host_ms: median(times), host_runs: opts.tflmRuns,
          max_abs_error: compareOutputs(ready.output, reference).max_abs_error,
          how: `tflite-micro ${ready.version} (its Python interpreter tflite_micro.runtime.Interpreter.from_file, default arena size) on the same .tflite: print_allocations() after one invoke ("Arena allocation total/head/tail"; head is the non-persistent part, the tensors' plan and scratch, tail the persistent structs); latency: median of ${opts.tflmRuns} invoke() calls after 2 untimed, through the Python binding (time.perf_counter_ns)`
        };
      } finally {
        peer.close();
      }
    } catch (e) {
      row.tflm_unavailable = `not available: ${errorText(e)}`;
    }
  }
  return row;
}

async function prepareSysroot(reporter: Reporter): Promise<string> {
  reporter.log('making the arm64 Python sysroot for LiteRT under qemu-aarch64 (once)');
  const run = await execa('bash', [LITERT_SYSROOT_SCRIPT, defaultLitertSysroot()], { reject: false, timeout: 15 * 60 * 1000, all: true });
  if (run.exitCode !== 0) {
    const said = (run.all ?? '').trim().split('\n').filter(l => l.trim() && !l.startsWith('WARNING')).slice(-2).join(' | ');
    throw new EdgespecError('bench-litert-sysroot', `the arm64 LiteRT sysroot could not be made: ${said || `exit ${run.exitCode}`}`, `run it by hand: bash ${LITERT_SYSROOT_SCRIPT}`);
  }
  return defaultLitertSysroot();
}

async function tflmAvailable(): Promise<string | undefined> {
  const python = await requireTool('python');
  const run = await execa(python.path, ['-c', 'from tflite_micro.python.tflite_micro import runtime'], { reject: false, env: pythonEnv(), extendEnv: false, all: true });
  if (run.exitCode === 0) return undefined;
  return `not available: tflite_micro does not import in ${python.path} (${(run.all ?? '').trim().split('\n').pop()}); it is published as nightly pre-releases only: pip install --pre tflite-micro`;
}

/** `edgespec bench --section tiny`: the MLPerf Tiny set against LiteRT (host and qemu-aarch64) and TFLM. */
export async function runTinyBench(opts: TinyOptions): Promise<{ report: TinyReport; markdownFile: string; jsonFile: string }> {
  const started = Date.now();
  const qemu = await findTool('qemu-system-aarch64');
  const cpu = os.cpus()[0]?.model.trim() ?? 'unknown';
  opts.reporter.log(`CPU: ${cpu} (${os.cpus().length} cores), load average ${os.loadavg().map(l => l.toFixed(1)).join(' ')}`);
  const fp32Blocks = loadTarget('host').cpu.note;
  opts.reporter.log(`host image: ${fp32Blocks}`);
  const report: TinyReport = {
    format: 'edgespec.bench-tiny',
    version: 1,
    date: new Date().toISOString(),
    machine: { cpu, cores: os.cpus().length, os: `${os.type()} ${os.release()} ${os.arch()}`, node: process.versions.node, load_average: os.loadavg().map(l => Math.round(l * 10) / 10), fp32_blocks: fp32Blocks, ...(qemu.version ? { qemu: qemu.version } : {}) },
    settings: {
      rounds: opts.rounds, host_runs: opts.hostRuns, host_warmup: opts.hostWarmup, emulated_rounds: opts.emulatedRounds, emulated_runs: opts.emulatedRuns, emulated_warmup: opts.emulatedWarmup, tflm_runs: opts.tflmRuns, seed: TINY_SEED,
      models: 'the four MLPerf Tiny architectures written in Keras (src/toolchain/bench/python/tiny_models.py) with seeded weights and batch-norm statistics, converted by the TFLite converter as fp32 and as full int8 (int8 input and output, 32 seeded representative inputs)',
      input: "each bundle's reference input: edgespec capture's seeded input (on the int8 input's grid for int8 models); the reference output is tf.lite.Interpreter's"
    },
    seconds: 0,
    rows: []
  };
  await ensureTinyModels(opts.cacheDir, opts.models, opts.dtypes, opts.reporter);
  let sysroot: string | undefined;
  if (!opts.arm64) report.emulated_skipped = 'left out with --no-arm64';
  else {
    try {
      sysroot = await prepareSysroot(opts.reporter);
    } catch (e) {
      report.emulated_skipped = errorText(e);
      opts.reporter.log(`skipping the qemu-aarch64 columns: ${report.emulated_skipped}`, 'warn');
    }
  }
  if (!opts.tflm) report.tflm_skipped = 'left out with --no-tflm';
  else report.tflm_skipped = await tflmAvailable();
  const tflm = opts.tflm && report.tflm_skipped === undefined;
  const plan = opts.models.flatMap(m => opts.dtypes.map(d => [m, d] as const));
  for (const [i, [model, dtype]] of plan.entries()) {
    opts.reporter.progress('bench-tiny', i, plan.length, `${model} ${dtype}`);
    report.rows.push(await benchRow(model, dtype, { ...opts, tflm }, report, sysroot));
  }
  opts.reporter.progress('bench-tiny', plan.length, plan.length);
  report.seconds = Math.round((Date.now() - started) / 1000);
  await fs.mkdir(opts.outDir, { recursive: true });
  const jsonFile = path.join(opts.outDir, 'tiny.json');
  const markdownFile = path.join(opts.outDir, 'tiny.md');
  await writeFileAtomic(jsonFile, JSON.stringify(report, null, 2) + '\n');
  await writeFileAtomic(markdownFile, tinyMarkdown(report));
  return { report, markdownFile, jsonFile };
}

export function isTinyModel(name: string): name is TinyModel {
  return (TINY_MODELS as readonly string[]).includes(name);
}
