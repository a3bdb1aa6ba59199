import { Measured } from '../../common/types';
import { ISSUE_MODELS } from './benchPlan';
import { BENCH_DTYPES, BenchDtype, BenchModel, BenchReport, RatioRange, RoundRatio } from './benchTypes';

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
  { title: 'guest instructions, portable kernels', value: m => m.guest_instructions_portable, format: bytes },
  { title: 'NEON / portable', value: m => m.neon_vs_portable, format: ratio },
  { title: 'QEMU wall ms', value: m => m.qemu_wall_ms, format: ms },
  { title: 'host ms', value: m => m.host_ms, format: ms },
  { title: 'onnxruntime ms', value: m => m.onnxruntime_ms, format: ms },
  { title: 'PyTorch ms', value: m => m.torch_ms, format: ms },
  { title: 'host / onnxruntime', value: m => m.host_vs_onnxruntime, format: ratio },
  { title: 'host / PyTorch', value: m => m.host_vs_torch, format: ratio },
  { title: 'linux qemu-aarch64 ms', value: m => m.linux_qemu_ms, format: ms },
  { title: 'onnxruntime arm64 qemu-aarch64 ms', value: m => m.onnxruntime_arm64_ms, format: ms },
  { title: 'linux / onnxruntime arm64', value: m => m.linux_vs_onnxruntime_arm64, format: ratio },
  { title: 'qemu-virt N inputs, one boot ms', value: m => m.stream_ms, format: ms },
  { title: 'qemu-virt N inputs, N boots ms', value: m => m.boots_ms, format: ms },
  { title: 'one boot / N boots', value: m => m.stream_vs_boots, format: ratio }
];

const dtypeOf = (m: BenchModel): BenchDtype => m.dtype ?? 'float32';

const column = (title: string): Column => COLUMNS.find(c => c.title === title)!;
/** The summary's columns: the ratios to onnxruntime the issue asks for, and what NEON buys. */
const SUMMARY: { title: string; column: Column }[] = [
  { title: 'host / onnxruntime', column: column('host / onnxruntime') },
  { title: 'linux / onnxruntime arm64 (qemu-aarch64)', column: column('linux / onnxruntime arm64') },
  { title: 'guest instructions, portable kernels', column: column('guest instructions, portable kernels') },
  { title: 'guest instructions, NEON kernels', column: column('guest instructions') },
  { title: 'NEON / portable', column: column('NEON / portable') }
];
const SPEED_RATIOS = ['host / onnxruntime', 'linux / onnxruntime arm64'];

/** The rows of the models issue 6 names, with the ratios it asks for and how many meet the goal. */
function summaryLines(report: BenchReport): string[] {
  const rows = report.models.filter(m => ISSUE_MODELS.includes(m.model));
  if (rows.length === 0) return [];
  const ratios = rows.flatMap(m => SPEED_RATIOS.map(t => column(t).value(m)).filter((v): v is Measured => v !== undefined));
  const within = ratios.filter(r => r.value <= 1).length;
  return [
    '## Against onnxruntime, and what the NEON kernels buy',
    '',
    `| model | dtype | ${SUMMARY.map(c => c.title).join(' | ')} |`,
    `|---|---|${SUMMARY.map(() => '---:').join('|')}|`,
    ...rows.map(m => `| ${m.model} | ${dtypeOf(m)} | ${SUMMARY.map(c => {
      const v = c.column.value(m);
      return v ? c.column.format(v.value) : '–';
    }).join(' | ')} |`),
    '',
    `Goal: at most 1.00x against onnxruntime in every cell; ${within} of ${ratios.length} measured cells meet it. Ratios below 1: edgespec is faster (or, for NEON / portable, the NEON paths run fewer guest instructions). How each is measured: below.`,
    ''
  ];
}

/**
 * A column's "how" lines: the first "how" any row of each dtype gives (the same for every
 * model of a dtype); one line when all dtypes share it, else one per dtype.
 */
function howLines(report: BenchReport, column: Column): string[] {
  const present = BENCH_DTYPES.filter(d => report.models.some(m => dtypeOf(m) === d));
  const hows = present.map(dtype => {
    const row = report.models.find(m => dtypeOf(m) === dtype && column.value(m));
    return { dtype, how: row ? column.value(row)!.how : 'not measured' };
  });
  if (hows.length <= 1 || hows.every(h => h.how === hows[0].how)) return [`- **${column.title}**: ${hows[0]?.how ?? 'not measured'}`];
  return hows.map(h => `- **${column.title}** (${h.dtype}): ${h.how}`);
}

const AGREES_HOW = [
  "- **agrees** (float32): both the qemu-virt and the host image ran on the bundle's reference input and matched PyTorch's output: max abs error <= 1e-4 x max|reference| and the same top-5 classes.",
  "- **agrees** (int8): both int8 images (edgespec build --dtype int8) ran on the bundle's reference input and matched PyTorch's fp32 output as edgespec run judges int8: max abs error <= 5e-2 x max|reference| and the same top-1 class. The bench's bundles have seeded random weights and answer one class for nearly every input, so top-1 says little here; scripts/int8-agreement.py measures it on a model whose answer depends on the input (MobileNetV2 trained on a seeded task)."
];

const RANGE_COLUMNS: { title: string; key: RoundRatio }[] = [
  { title: 'host / onnxruntime rounds', key: 'host_vs_onnxruntime' },
  { title: 'host / PyTorch rounds', key: 'host_vs_torch' },
  { title: 'linux / onnxruntime arm64 rounds', key: 'linux_vs_onnxruntime_arm64' }
];

const rangeCell = (r: RatioRange | undefined): string => (r ? `${r.min.toFixed(2)}–${r.max.toFixed(2)} (${r.rounds})` : '–');

/** The smallest and largest per-round ratio of each ratio column: how much the machine's load moved them. */
export function roundRangeLines(report: BenchReport): string[] {
  const rows = report.models.filter(m => m.round_ratios && Object.keys(m.round_ratios).length > 0);
  if (rows.length === 0) return [];
  return [
    '', '## Per-round ratio ranges', '',
    'Each ratio above is the median of per-round ratios: in every round edgespec is timed, then each peer right after it, so load that comes and goes on a shared machine hits both sides of a round alike. The smallest and largest per-round ratio (and the number of rounds):',
    '',
    `| model | dtype | ${RANGE_COLUMNS.map(c => c.title).join(' | ')} |`,
    `|---|---|${RANGE_COLUMNS.map(() => '---:').join('|')}|`,
    ...rows.map(m => `| ${m.model} | ${dtypeOf(m)} | ${RANGE_COLUMNS.map(c => rangeCell(m.round_ratios![c.key])).join(' | ')} |`)
  ];
}

export function benchMarkdown(report: BenchReport): string {
  const m = report.machine;
  const lines = [
    '# edgespec benchmark',
    '',
    `${report.date} on ${m.cpu} (${m.cores} cores), ${m.os}; node ${m.node}` +
      `${m.qemu ? `, QEMU ${m.qemu}` : ''}${m.torch ? `, PyTorch ${m.torch}` : ''}${m.onnxruntime ? `, onnxruntime ${m.onnxruntime}` : ''}.`,
    ...(m.fp32_blocks ? [`Host image: ${m.fp32_blocks}.`] : []),
    `Input: ${report.settings.input}. ${report.settings.rounds ? `Timing: ${report.settings.rounds} interleaved rounds; per round, ` : 'Peers: '}median of ${report.settings.runs} runs after ${report.settings.warmup} warm-up runs${report.settings.emulated_runs ? ` (under qemu-aarch64: ${report.settings.emulated_runs} after ${report.settings.emulated_warmup ?? 0})` : ''}.` +
      `${report.settings.dtypes ? ` Dtypes: ${report.settings.dtypes}.` : ''}`,
    '',
    ...summaryLines(report),
    '## Every model',
    '',
    `| model | dtype | agrees | ${COLUMNS.map(c => c.title).join(' | ')} |`,
    `|---|---|---|${COLUMNS.map(() => '---:').join('|')}|`
  ];
  for (const model of report.models) {
    const cells = COLUMNS.map(c => {
      const v = c.value(model);
      return v ? c.format(v.value) : '–';
    });
    lines.push(`| ${model.model} | ${dtypeOf(model)} | ${model.agrees ? 'yes' : '**no**'} | ${cells.join(' | ')} |`);
  }
  lines.push('', '## How each number was measured', '');
  for (const dtype of BENCH_DTYPES) if (report.models.some(m => dtypeOf(m) === dtype)) lines.push(AGREES_HOW[BENCH_DTYPES.indexOf(dtype)]);
  for (const column of COLUMNS) lines.push(...howLines(report, column));
  if (report.models.some(m => dtypeOf(m) === 'int8')) {
    lines.push('', 'int8 rows: both onnxruntime columns (native and arm64 under qemu-aarch64) are onnxruntime on its own statically quantized model; PyTorch is measured for float32 only.');
  }
  lines.push(...roundRangeLines(report));
  if (report.arm64_peer_skipped) lines.push('', `Note: the qemu-aarch64 columns (linux against onnxruntime's arm64 build) were skipped: ${report.arm64_peer_skipped}`);
  const failures = report.models.filter(x => x.errors.length > 0);
  if (failures.length > 0) {
    lines.push('', '## Problems', '');
    for (const f of failures) for (const e of f.errors) lines.push(`- ${f.model} ${dtypeOf(f)}: ${e.replace(/\n/g, ' ')}`);
  }
  return lines.join('\n') + '\n';
}
