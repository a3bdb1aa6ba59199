import { promises as fs } from 'fs';
import * as path from 'path';
import { debugBuildDir } from '../../common/targets';
import { BuildManifest, DivergenceReport, Graph } from '../../common/types';
import { buildBundle } from '../build/buildBundle';
import { DEBUG_TENSORS_FILE } from '../build/debugTensorsBuild';
import { loadBundle } from '../bundle/loadBundle';
import { hasGivenQuantization } from '../bundle/quantization';
import { readSafetensors, SafetensorsFile } from '../bundle/safetensors';
import { EdgespecError } from '../errors';
import { Reporter } from '../events';
import { writeFileAtomic } from '../run/atomicWrite';
import { readBuildDir, RunnableBuild } from '../run/buildDir';
import { runBuild } from '../run/runBuild';
import { readRegularFile } from '../readRegularFile';
import { compareLayers, firstDivergent } from './compareLayers';
import { DebugTrace, readDebugTensors } from './readDebugTensors';
import { describeTolerance, TolerancePolicy } from './tolerance';

export const DIVERGENCE_JSON = 'divergence.json';

export interface DiffOptions {
  buildDir: string;
  reporter: Reporter;
  timeoutS?: number;
  /** int8 builds that edgespec quantized with --calibration: the same calibration for the debug build. */
  calibration?: string;
}

export interface DiffOutcome {
  report: DivergenceReport;
  file: string;
}

/** A stage diff runs inside itself reports its progress and log lines, but not a result of its own. */
function nested(reporter: Reporter): Reporter {
  return {
    json: reporter.json,
    progress: (stage, done, total, message) => reporter.progress(stage, done, total, message),
    log: (message, level) => reporter.log(message, level),
    result: () => undefined,
    error: (code, message, hint, details) => reporter.error(code, message, hint, details)
  };
}

const INTERMEDIATES_MAX_BYTES = 4 * 1024 * 1024 * 1024;

/** build.json's kernel variant, which the run stage does not need (the debug build must match it). */
async function kernelVariantOf(dir: string): Promise<'neon' | 'portable'> {
  const manifest = JSON.parse(await fs.readFile(path.join(dir, 'build.json'), 'utf8')) as BuildManifest;
  return manifest.kernel_variant === 'portable' ? 'portable' : 'neon';
}

/** The build itself when it dumps its tensors; else its debug twin, built now beside it. */
async function debugBuildOf(build: RunnableBuild, options: DiffOptions): Promise<RunnableBuild> {
  if (build.debugTensors) return build;
  const out = debugBuildDir(build.dir);
  options.reporter.log(`building the debug image (edgespec build --debug-tensors) in ${out}`, 'info');
  await buildBundle({
    bundleDir: build.bundleDir, target: build.target, dtype: build.dtype, outDir: out, debugTensors: true,
    kernelVariant: await kernelVariantOf(build.dir), calibration: options.calibration,
    reporter: nested(options.reporter)
  });
  return readBuildDir(out);
}

async function readIntermediates(bundleDir: string, graph: Graph): Promise<SafetensorsFile> {
  const record = graph.intermediates;
  if (!record) {
    throw new EdgespecError('no-intermediates', `the bundle ${bundleDir} holds no framework values of its intermediate tensors, so its layers cannot be compared`,
      'capture the model again with this edgespec (capture keeps them in intermediates.safetensors unless they exceed its size cap; the capture log says when)');
  }
  return readSafetensors(path.join(bundleDir, record.file), record.file, INTERMEDIATES_MAX_BYTES);
}

/**
 * `edgespec diff BUILD`: runs BUILD's debug image on the bundle's reference input and
 * compares every tensor it dumps with the framework's value; writes BUILD/divergence.json.
 */
export async function diffBuild(options: DiffOptions): Promise<DiffOutcome> {
  const { reporter } = options;
  const build = await readBuildDir(options.buildDir);
  reporter.progress('diff', 0, 4, 'reading the bundle');
  const bundle = await loadBundle(build.bundleDir);
  const intermediates = await readIntermediates(bundle.dir, bundle.graph);
  reporter.progress('diff', 1, 4, build.debugTensors ? 'the build is a debug build' : 'building the debug image');
  const debug = await debugBuildOf(build, options);
  const manifest = debug.debugTensors!;

  reporter.progress('diff', 2, 4, 'running the debug image on the reference input');
  let trace: DebugTrace | undefined;
  const run = await runBuild({
    buildDir: debug.dir, timeoutS: options.timeoutS, reporter: nested(reporter),
    onWorkDir: async workDir => {
      const file = path.join(workDir, DEBUG_TENSORS_FILE);
      const data = await readRegularFile(file, { what: 'debug tensors', maxBytes: manifest.dumps.reduce((s, d) => s + d.bytes + 16, 16), why: 'the image writes the tensors build.json lists', hint: 'build the debug image again' }).catch(() => undefined);
      if (data) trace = readDebugTensors(data, manifest, DEBUG_TENSORS_FILE);
    }
  });
  if (!trace || trace.tensors.length === 0) {
    throw new EdgespecError('diff-no-trace', `the debug image wrote no tensors (run status ${run.report.status}${run.report.error ? `: ${run.report.error}` : ''})`,
      `see its console in ${run.runJson}; the image must run to its first step to be compared`);
  }

  reporter.progress('diff', 3, 4, `comparing ${trace.tensors.length} tensors with the framework's`);
  // a float image of a dynamic-range .tflite is compared with values TFLite computed with int8 arithmetic
  const int8Framework = bundle.graph.reference.arithmetic === 'dynamic-range int8';
  const policy: TolerancePolicy = build.dtype === 'float32' && !int8Framework ? 'float32' : hasGivenQuantization(bundle.graph) ? 'int8-given' : 'int8-calibrated';
  // the graph's inputs and outputs are the reference's (an input's layout conversion is a dumped tensor too)
  const { graph, reference } = bundle;
  const io = new Map([
    ...graph.inputs.map((t, i) => [t.tensor, reference.tensors.get(graph.reference.inputs[i])] as const),
    ...graph.outputs.map((t, i) => [t.tensor, reference.tensors.get(graph.reference.outputs[i])] as const)
  ]);
  const layers = compareLayers(trace.tensors, graph, name => intermediates.tensors.get(name) ?? io.get(name), policy);
  const first = firstDivergent(layers);
  const stopped = trace.complete ? '' : `; the image stopped after ${trace.tensors.length} of ${manifest.dumps.length} tensors (run status ${run.report.status})`;
  const report: DivergenceReport = {
    format: 'edgespec.divergence',
    version: 1,
    model: build.model,
    target: build.target,
    dtype: build.dtype,
    build: path.relative(bundle.dir, build.dir),
    debug_build: path.relative(bundle.dir, debug.dir),
    framework: `${bundle.graph.source.framework} ${bundle.graph.source.framework_version}`,
    status: first === null && trace.complete ? 'agrees' : 'diverges',
    first_divergent: first,
    how: `${describeTolerance(policy)}. Image values: the debug build's tensors after each step (debug-tensors.bin), converted to the graph tensor's layout and dequantized; framework values: intermediates.safetensors, kept by capture from the framework run on the reference input${stopped}`,
    layers,
    run: { wall_ms: run.report.wall_ms, ...(run.report.guest_instructions ? { guest_instructions: run.report.guest_instructions } : {}), console: run.report.console }
  };
  const file = path.join(build.dir, DIVERGENCE_JSON);
  await writeFileAtomic(file, `${JSON.stringify(report, null, 1)}\n`);
  reporter.progress('diff', 4, 4, report.status);
  return { report, file };
}
