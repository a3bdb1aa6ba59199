import { TinyAgreement, TinyReport, TinyRow, TINY_TITLES } from './tinyTypes';

const int = (n: number | undefined): string => (n === undefined ? '–' : Math.round(n).toLocaleString('en-US'));
const ms = (n: number | undefined): string => (n === undefined ? '–' : n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n >= 1 ? n.toFixed(2) : n.toFixed(3));
const ratio = (n: number | undefined): string => (n === undefined ? '–' : `${n.toFixed(2)}x`);
const range = (lo: number, hi: number): string => `${lo.toFixed(2)}–${hi.toFixed(2)}`;

/** One image's agreement with tf.lite.Interpreter, short: fp32 max abs error, int8 steps of the output scale. */
export function agreementText(a: TinyAgreement, int8: boolean): string {
  if (a.status !== 'ok' && a.max_abs_error === undefined) return a.status;
  const top1 = a.top1_match === undefined ? '' : a.top1_match ? ', top-1 same' : ', top-1 differs';
  if (int8 && a.steps !== undefined) {
    const steps = a.steps < 1e-9 ? 'bit-exact' : `≤ ${Math.round(a.steps)} step${Math.round(a.steps) === 1 ? '' : 's'}`;
    return `${steps}${top1}${a.status === 'ok' ? '' : ` (${a.status})`}`;
  }
  return `${a.max_abs_error === undefined ? '?' : a.max_abs_error.toExponential(1)}${top1}${a.status === 'ok' ? '' : ` (${a.status})`}`;
}

/** Agreement of every target, merged when they say the same. */
export function agreementCell(row: TinyRow): string {
  if (row.agreement.length === 0) return 'not run';
  const texts = row.agreement.map(a => ({ target: a.target, text: agreementText(a, row.dtype === 'int8') }));
  if (texts.every(t => t.text === texts[0].text)) return `${texts[0].text} (${texts.map(t => t.target).join(', ')})`;
  return texts.map(t => `${t.target}: ${t.text}`).join('; ');
}

function tflmArena(row: TinyRow): string {
  if (!row.tflm) return row.tflm_unavailable ?? '–';
  return `${int(row.tflm.arena_head)} (total ${int(row.tflm.arena_total)})`;
}

export function tinyRowCells(row: TinyRow): string[] {
  const overhead = row.overhead_bytes?.value;
  const arena = row.arena_bytes?.value;
  return [
    TINY_TITLES[row.model],
    row.dtype,
    agreementCell(row),
    ratio(row.host?.ratio),
    row.host ? `${ms(row.host.edgespec_ms)} / ${ms(row.host.peer_ms)}` : '–',
    ratio(row.emulated?.ratio),
    row.emulated ? `${ms(row.emulated.edgespec_ms)} / ${ms(row.emulated.peer_ms)}` : '–',
    int(row.guest_instructions?.value),
    int(row.image_bytes?.value),
    overhead === undefined ? '–' : `${int(overhead)} (${(overhead / 1024).toFixed(1)} KiB)`,
    arena === undefined ? '–' : `${int(arena)} (bound ${int(row.arena_lower_bound?.value)})`,
    tflmArena(row),
    arena !== undefined && row.tflm ? ratio(arena / row.tflm.arena_head) : '–',
    row.tflm ? ms(row.tflm.host_ms) : '–'
  ];
}

export const TINY_HEADER = [
  'model', 'dtype', 'agreement with tf.lite.Interpreter', 'host / LiteRT', 'host ms / LiteRT ms',
  'linux / LiteRT arm64 (qemu-aarch64)', 'linux ms / LiteRT arm64 ms', 'guest instructions (qemu-virt)',
  'image bytes (qemu-virt)', 'image − weights', 'arena', 'TFLM arena head', 'arena / TFLM head', 'TFLM host ms'
];
const RIGHT = new Set([3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]);

export function tinyTable(rows: readonly TinyRow[]): string {
  const lines = [`| ${TINY_HEADER.join(' | ')} |`, `|${TINY_HEADER.map((_, i) => (RIGHT.has(i) ? '---:' : '---')).join('|')}|`];
  for (const row of rows) lines.push(`| ${tinyRowCells(row).join(' | ')} |`);
  return lines.join('\n');
}

/** tiny.md: the table, the goals it is held to, how each number was measured, the problems. */
export function tinyMarkdown(report: TinyReport): string {
  const m = report.machine;
  const s = report.settings;
  const out: string[] = [];
  out.push('# edgespec tiny-model benchmark (MLPerf Tiny architectures)', '');
  out.push(`${report.date} on ${m.cpu} (${m.cores} cores), ${m.os}; load average at the start ${m.load_average.join(', ')}; node ${m.node}${m.qemu ? `, QEMU ${m.qemu}` : ''}${m.litert ? `, LiteRT ${m.litert}` : ''}${m.tflm ? `, tflite-micro ${m.tflm}` : ''}. The section took ${report.seconds} s.`, '');
  if (m.fp32_blocks) out.push(`Host image: ${m.fp32_blocks}.`, '');
  out.push(tinyTable(report.rows), '');
  const cells = report.rows.flatMap(r => [r.host?.ratio, r.emulated?.ratio]).filter((x): x is number => x !== undefined);
  out.push(`Goals (issue 15): at most 1.00x LiteRT on the host and under qemu-aarch64 (${cells.filter(c => c <= 1).length} of ${cells.length} measured cells meet it); image − weights at most 64 KiB on qemu-virt; arena at most TFLM's and at most 1.05x its lower bound. Ratios below 1: edgespec is faster or smaller.`, '');
  if (report.emulated_skipped) out.push(`The qemu-aarch64 columns are missing: ${report.emulated_skipped}.`, '');
  if (report.tflm_skipped) out.push(`The TFLM columns are missing: ${report.tflm_skipped}.`, '');
  out.push('## How each number was measured', '');
  out.push(`- **models**: ${s.models}; seed ${s.seed}.`);
  out.push(`- **input**: ${s.input}.`);
  out.push('- **agreement with tf.lite.Interpreter**: each image (qemu-virt, host, linux under qemu-aarch64) run by `edgespec run` on the bundle\'s reference input against the reference output, which edgespec capture took from tf.lite.Interpreter on the same .tflite. float32: max abs error (the run passes at ≤ 1e-4 × max|reference| and the same top-5); int8: the largest difference in steps of the output\'s quantization scale (bit-exact: 0 steps; the run passes at ≤ 5e-2 × max|reference| and the same top-1).');
  const first = report.rows.find(r => r.host)?.host;
  if (first) out.push(`- **host / LiteRT**, **host ms / LiteRT ms**: ${first.how}. The ms columns are the medians over rounds of each side's per-round median.`);
  const emu = report.rows.find(r => r.emulated)?.emulated;
  if (emu) out.push(`- **linux / LiteRT arm64**: ${emu.how}.`);
  const g = report.rows.find(r => r.guest_instructions)?.guest_instructions;
  if (g) out.push(`- **guest instructions**: ${g.how}.`);
  const img = report.rows.find(r => r.image_bytes)?.image_bytes;
  if (img) out.push(`- **image bytes**: ${img.how}; **image − weights**: the qemu-virt image's bytes minus the packed weight bytes in .edgespec.weights (boot and platform code, libc, kernels, schedule, headers, padding).`);
  const ar = report.rows.find(r => r.arena_bytes)?.arena_bytes;
  if (ar) out.push(`- **arena**: ${ar.how}.`);
  const tf = report.rows.find(r => r.tflm)?.tflm;
  if (tf) out.push(`- **TFLM arena head**, **TFLM host ms**: ${tf.how}. edgespec's arena holds only activations, like TFLM's head; TFLM's total adds its persistent structs.`);
  out.push('- **machine load**: this machine is shared and loaded by other work while the bench runs; ratios from interleaved rounds and guest instruction counts (deterministic under -icount) are the numbers to trust, absolute milliseconds less so. The per-round ratio range is in the table below.', '');
  const timed = report.rows.filter(r => r.host || r.emulated);
  if (timed.length > 0) {
    out.push('## Per-round ratio ranges', '', '| model | dtype | host / LiteRT rounds | linux / LiteRT arm64 rounds |', '|---|---|---:|---:|');
    for (const r of timed) out.push(`| ${TINY_TITLES[r.model]} | ${r.dtype} | ${r.host ? `${range(r.host.ratio_min, r.host.ratio_max)} (${r.host.rounds})` : '–'} | ${r.emulated ? `${range(r.emulated.ratio_min, r.emulated.ratio_max)} (${r.emulated.rounds})` : '–'} |`);
    out.push('');
  }
  const problems = report.rows.filter(r => r.errors.length > 0);
  if (problems.length > 0) {
    out.push('## Problems', '');
    for (const r of problems) for (const e of r.errors) out.push(`- ${TINY_TITLES[r.model]} ${r.dtype}: ${e}`);
    out.push('');
  }
  return out.join('\n');
}
