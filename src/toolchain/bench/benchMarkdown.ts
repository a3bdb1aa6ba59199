import { Measured } from '../../common/types';
import { BenchModel, BenchReport } from './benchTypes';

interface Column {
  title: string;
  value: (m: BenchModel) => Measured | undefined;
  format: (v: number) => string;
}

const bytes = (v: number) => v.toLocaleString('en-US');
const ms = (v: number) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
const ratio = (v: number) => `${v.toFixed(2)}x`;

const COLUMNS: Column[] = [
  { title: 'image bytes', value: m => m.image_bytes, format: bytes },
  { title: 'weight bytes', value: m => m.weights_bytes, format: bytes },
  { title: 'overhead', value: m => m.overhead_bytes, format: bytes },
  { title: 'arena', value: m => m.arena_bytes, format: bytes },
  { title: 'lower bound', value: m => m.arena_lower_bound, format: bytes },
  { title: 'guest instructions', value: m => m.guest_instructions, format: bytes },
  { title: 'QEMU wall ms', value: m => m.qemu_wall_ms, format: ms },
  { title: 'host ms', value: m => m.host_ms, format: ms },
  { title: 'onnxruntime ms', value: m => m.onnxruntime_ms, format: ms },
  { title: 'PyTorch ms', value: m => m.torch_ms, format: ms },
  { title: 'host / onnxruntime', value: m => m.host_vs_onnxruntime, format: ratio },
  { title: 'host / PyTorch', value: m => m.host_vs_torch, format: ratio },
  { title: 'linux qemu-aarch64 ms', value: m => m.linux_qemu_ms, format: ms },
  { title: 'onnxruntime arm64 qemu-aarch64 ms', value: m => m.onnxruntime_arm64_ms, format: ms },
  { title: 'linux / onnxruntime arm64', value: m => m.linux_vs_onnxruntime_arm64, format: ratio }
];

/** The first "how" any model gives for a column (they are the same for every model). */
function howOf(report: BenchReport, column: Column): string {
  for (const m of report.models) {
    const v = column.value(m);
    if (v) return v.how;
  }
  return 'not measured';
}

export function benchMarkdown(report: BenchReport): string {
  const m = report.machine;
  const lines = [
    '# edgespec benchmark',
    '',
    `${report.date} on ${m.cpu} (${m.cores} cores), ${m.os}; node ${m.node}` +
      `${m.qemu ? `, QEMU ${m.qemu}` : ''}${m.torch ? `, PyTorch ${m.torch}` : ''}${m.onnxruntime ? `, onnxruntime ${m.onnxruntime}` : ''}.`,
    `Input: ${report.settings.input}. Peers: median of ${report.settings.runs} runs after ${report.settings.warmup} warm-up runs.`,
    '',
    `| model | agrees | ${COLUMNS.map(c => c.title).join(' | ')} |`,
    `|---|---|${COLUMNS.map(() => '---:').join('|')}|`
  ];
  for (const model of report.models) {
    const cells = COLUMNS.map(c => {
      const v = c.value(model);
      return v ? c.format(v.value) : '–';
    });
    lines.push(`| ${model.model} | ${model.agrees ? 'yes' : '**no**'} | ${cells.join(' | ')} |`);
  }
  lines.push('', '## How each number was measured', '');
  lines.push('- **agrees**: both the qemu-virt and the host image ran on the bundle\'s reference input and matched PyTorch\'s output: max abs error <= 1e-4 x max|reference| and the same top-5 classes.');
  for (const column of COLUMNS) lines.push(`- **${column.title}**: ${howOf(report, column)}`);
  if (report.arm64_peer_skipped) lines.push('', `Note: the qemu-aarch64 columns (linux against onnxruntime's arm64 build) were skipped: ${report.arm64_peer_skipped}`);
  const failures = report.models.filter(x => x.errors.length > 0);
  if (failures.length > 0) {
    lines.push('', '## Problems', '');
    for (const f of failures) for (const e of f.errors) lines.push(`- ${f.model}: ${e.replace(/\n/g, ' ')}`);
  }
  return lines.join('\n') + '\n';
}
