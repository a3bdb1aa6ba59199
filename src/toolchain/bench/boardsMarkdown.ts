/** The boards section's table (boardsBench.ts): one row per model, dtype and board target. */
import { BOARD_OVERHEAD_BUDGET, BoardRow, BoardsReport } from './boardsTypes';

const bytes = (n: number | undefined): string => (n === undefined ? '—' : n.toLocaleString('en-US'));

function overhead(row: BoardRow): string {
  if (row.overheadBytes === undefined) return '—';
  if (row.target === 'linux-vm') return `${bytes(row.overheadBytes)} (an executable; no budget)`;
  return `${bytes(row.overheadBytes)} ${row.overheadBytes <= BOARD_OVERHEAD_BUDGET ? '≤' : '>'} ${bytes(BOARD_OVERHEAD_BUDGET)}`;
}

function linuxVm(row: BoardRow): string {
  const vm = row.linuxVm;
  if (!vm) return '';
  const generic = vm.debianTotalBytes === undefined ? "Debian's kernel not fetched (bash scripts/debian-arm64-kernel.sh)" : `${bytes(vm.debianKernelBytes)} + ${bytes(vm.initramfsBytes)} = ${bytes(vm.debianTotalBytes)}`;
  return `${bytes(vm.kernelBytes)} + ${bytes(vm.initramfsBytes)} = ${bytes(vm.totalBytes)} | ${generic}`;
}

export function boardsMarkdown(report: BoardsReport): string {
  const lines = [
    '# Board images',
    '',
    `How: ${report.how}.`,
    '',
    '| model | dtype | target | file | bytes | weights | image − weights (budget) | linux-vm: purpose-built kernel + initramfs | linux-vm: Debian kernel + initramfs |',
    '|---|---|---|---|---:|---:|---|---:|---:|'
  ];
  for (const row of report.rows) {
    if (row.error) {
      lines.push(`| ${row.model} | ${row.dtype} | ${row.target} | build failed: ${row.error.replace(/\|/g, '/')} | | | | | |`);
      continue;
    }
    const vm = linuxVm(row);
    lines.push(`| ${row.model} | ${row.dtype} | ${row.target} | ${row.imageFile ?? ''} | ${bytes(row.imageBytes)} | ${bytes(row.weightsBytes)} | ${overhead(row)} | ${vm || '| '} |`);
  }
  return `${lines.join('\n')}\n`;
}
