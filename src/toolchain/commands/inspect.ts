import { loadBundle } from '../bundle/loadBundle';
import { BundleSummary, summarizeBundle } from '../bundle/summarize';
import type { RegisterCommand } from './context';
import { formatBytes, formatTable } from './text';

export const registerInspect: RegisterCommand = (program, ctx) => {
  program
    .command('inspect')
    .description('validate a captured bundle and show its inputs, outputs, op inventory and parameter bytes')
    .argument('<bundle>', 'bundle directory written by edgespec capture')
    .option('--json', 'print JSON-line events')
    .action(async (dir: string, opts: { json?: boolean }) => {
      const reporter = ctx.reporter(opts);
      const summary = summarizeBundle(await loadBundle(dir));
      reporter.result('inspect', summary, () => formatSummary(summary));
    });
};

function formatSummary(s: BundleSummary): string {
  const io = (list: BundleSummary['inputs']) => list.map(i => `${i.name} ${i.dtype} [${i.shape.join(', ')}] ${i.layout}`).join('; ');
  const source = [`${s.source.framework} ${s.source.framework_version}`, s.source.method, s.source.entry ? `from ${s.source.entry}` : '']
    .filter(Boolean)
    .join(', ');
  const lines = [
    `model       ${s.name} (${source})`,
    `inputs      ${io(s.inputs)}`,
    `outputs     ${io(s.outputs)}`,
    `nodes       ${s.node_count}`,
    `parameters  ${s.parameters.elements.toLocaleString('en-US')} values in ${s.parameters.tensors} tensors, ${formatBytes(s.parameters.bytes)}`,
    ...(s.quantization ? [`quantized   int8 with the quantization given by the ${s.quantization.given_by} model: ${s.quantization.activation_tensors} activation tensors, ${s.quantization.weights} weights (${s.quantization.per_channel_weights} per channel); edgespec build uses it (int8, no calibration)`] : []),
    `checksums   ${s.checksums.weights.file} sha256 ${s.checksums.weights.status} (${s.checksums.weights.sha256.slice(0, 12)}…), ` +
      `${s.checksums.reference.file} sha256 ${s.checksums.reference.status} (${s.checksums.reference.sha256.slice(0, 12)}…)`,
    '',
    'framework op inventory (as dispatched while the model ran)',
    formatTable(
      ['framework op', 'count', 'edgespec op'],
      s.op_inventory.map(r => [r.framework_op, String(r.count), r.edgespec_ops.join(', ') || (r.removed ? '(removed: identity)' : '-')]),
      [false, true, false]
    ),
    '  (-: no graph node records this op; export decomposed or folded it into another)',
    '',
    'edgespec ops used',
    formatTable(['op', 'nodes'], s.edgespec_ops.map(o => [o.op, String(o.count)]), [false, true])
  ];
  return lines.join('\n');
}
