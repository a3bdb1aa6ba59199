import { DivergenceLayer, DivergenceReport } from '../../common/types';
import { diffBuild } from '../diff/diffBuild';
import { parseTimeout } from './run';
import type { RegisterCommand } from './context';

function num(x: number | undefined, digits = 3): string {
  return x === undefined ? '-' : x === 0 ? '0' : Math.abs(x) >= 1e4 || Math.abs(x) < 1e-3 ? x.toExponential(2) : x.toFixed(digits);
}

function rowText(l: DivergenceLayer): string {
  const where = `${l.module} ${l.op}${l.kernel !== l.op ? ` (${l.kernel})` : ''}`;
  if (!l.compared) return `  ${String(l.index).padStart(4)}  ${where.padEnd(44)} not compared: ${l.why}`;
  const steps = l.quant_steps !== undefined ? `  ${num(l.quant_steps, 2)} steps` : '';
  const mark = l.within_tolerance ? '' : '  <-- over tolerance';
  return `  ${String(l.index).padStart(4)}  ${where.padEnd(44)} max abs ${num(l.max_abs_error)}  rel ${num(l.max_rel_error)}  cos ${num(l.cosine, 6)}${steps}${mark}`;
}

/** The human summary: the verdict, the first divergent layer in full, and the rows around it. */
export function formatDiffSummary(r: DivergenceReport, file: string): string {
  const compared = r.layers.filter(l => l.compared).length;
  const lines = [`${r.model} (${r.target}, ${r.dtype}) against ${r.framework}: ${compared} of ${r.layers.length} layer tensors compared`];
  if (r.first_divergent === null) {
    lines.push(r.status === 'agrees' ? '  every compared layer is within tolerance' : '  every compared layer is within tolerance, but the image did not finish (see divergence.json how)');
  } else {
    const l = r.layers[r.first_divergent];
    lines.push(`  first divergent layer: #${l.index} (step ${l.step}) ${l.module}: ${l.op} -> ${l.tensor} [${l.shape.join(', ')}] ${l.dtype}`);
    lines.push(`    framework ops: ${l.framework_ops.join(', ')}${l.source ? `\n    source: ${l.source}` : ''}`);
    lines.push(`    attributes: ${JSON.stringify(l.attrs)}`);
    lines.push(`    max abs error ${num(l.max_abs_error)} (${num(l.max_rel_error)} of max |framework| ${num(l.max_abs_reference)}), cosine ${num(l.cosine, 6)}${l.quant_steps !== undefined ? `, ${num(l.quant_steps, 2)} quantization steps` : ''}; tolerance ${l.tolerance} ${l.tolerance_unit}`);
    const from = Math.max(0, r.first_divergent - 3);
    lines.push('  layers around it:');
    for (const row of r.layers.slice(from, r.first_divergent + 3)) lines.push(rowText(row));
  }
  lines.push(`  wrote ${file}`);
  return lines.join('\n');
}

/** `edgespec diff BUILD_DIR`: the layer where the image first departs from the framework. */
export const registerDiff: RegisterCommand = (program, ctx) => {
  program
    .command('diff')
    .description("find the first layer where a built image departs from the framework: builds its debug twin (edgespec build --debug-tensors), runs it on the bundle's reference input, compares every intermediate tensor with the framework's value kept by capture, and writes divergence.json into the build directory")
    .argument('<build-dir>', 'the directory edgespec build wrote (it holds build.json); a --debug-tensors build is run as it is')
    .option('--timeout <seconds>', 'stop the debug image after this long (default: as edgespec run)', parseTimeout)
    .option('--calibration <path>', 'int8 builds quantized with --calibration: the same calibration, for the debug build')
    .option('--json', 'print JSON-line events')
    .action(async (buildDir: string, opts: { timeout?: number; calibration?: string; json?: boolean }) => {
      const reporter = ctx.reporter(opts);
      const { report, file } = await diffBuild({ buildDir, reporter, timeoutS: opts.timeout, calibration: opts.calibration });
      reporter.result('diff', { divergence: file, status: report.status, first_divergent: report.first_divergent }, () => formatDiffSummary(report, file));
    });
};
