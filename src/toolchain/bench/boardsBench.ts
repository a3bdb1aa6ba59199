/**
 * The bench's boards section (issue 14): a torchvision model built for rpi3, efi and linux-vm,
 * and the bytes each board loads, read from the build's footprint.json (file sizes on disk):
 * image − weights against the 128 KiB budget of a bare-metal image, and linux-vm's kernel +
 * initramfs beside Debian's generic arm64 kernel with the same initramfs. Builds only: the
 * agreement of these images is checked by the tests (docs/benchmark.md has measured runs).
 */
import { promises as fs } from 'fs';
import * as path from 'path';
import { buildBundle } from '../build/buildBundle';
import { Reporter } from '../events';
import { BenchDtype } from './benchTypes';
import { boardsMarkdown } from './boardsMarkdown';
import { BOARD_TARGETS, BoardRow, BoardsReport, BoardTarget } from './boardsTypes';
import { ensureBundle } from './ensureBundle';

export async function runBoardsBench(o: { models: string[]; dtypes: BenchDtype[]; cacheDir: string; outDir: string; reporter: Reporter }): Promise<{ report: BoardsReport; markdownFile: string; jsonFile: string }> {
  const rows: BoardRow[] = [];
  const total = o.models.length * o.dtypes.length * BOARD_TARGETS.length;
  for (const model of o.models) {
    const bundleDir = await ensureBundle(model, o.cacheDir, o.reporter);
    for (const dtype of o.dtypes) {
      for (const target of BOARD_TARGETS) {
        o.reporter.progress('boards', rows.length, total, `${model} ${dtype} for ${target}`);
        rows.push(await boardRow(bundleDir, model, dtype, target, path.join(o.cacheDir, model, 'boards', `${target}-${dtype}`)));
      }
    }
  }
  o.reporter.progress('boards', total, total, 'done');
  const report: BoardsReport = {
    rows,
    how: "edgespec build of the bench's seeded capture for each target; bytes are st_size of the built files as footprint.json records them (weights: weights.bin; image − weights: the rest of the file the board loads)"
  };
  await fs.mkdir(o.outDir, { recursive: true });
  const markdownFile = path.join(o.outDir, 'boards.md');
  const jsonFile = path.join(o.outDir, 'boards.json');
  await fs.writeFile(markdownFile, boardsMarkdown(report));
  await fs.writeFile(jsonFile, `${JSON.stringify(report, null, 1)}\n`);
  return { report, markdownFile, jsonFile };
}

async function boardRow(bundleDir: string, model: string, dtype: BenchDtype, target: BoardTarget, outDir: string): Promise<BoardRow> {
  const row: BoardRow = { model, dtype, target };
  try {
    const { footprint } = await buildBundle({ bundleDir, target, dtype, outDir });
    row.imageFile = footprint.image.file;
    row.imageBytes = footprint.totals.image_bytes.value;
    row.weightsBytes = footprint.totals.weights_bytes.value;
    row.overheadBytes = footprint.totals.overhead_bytes.value;
    const vm = footprint.linux_vm;
    if (vm) {
      row.linuxVm = {
        kernelBytes: vm.kernel.bytes,
        initramfsBytes: vm.initramfs.bytes,
        totalBytes: vm.total_bytes,
        ...(vm.generic_kernel
          ? { debianKernelBytes: vm.generic_kernel.image_bytes, debianTotalBytes: vm.generic_kernel.image_bytes + vm.initramfs.bytes, debianName: vm.generic_kernel.name }
          : {})
      };
    }
  } catch (e) {
    row.error = (e as Error).message.split('\n')[0];
  }
  return row;
}
