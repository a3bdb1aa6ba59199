/** The boards section's rows (boardsBench.ts measures them, boardsMarkdown.ts tabulates them). */
import { BenchDtype } from './benchTypes';

export const BOARD_TARGETS = ['rpi3', 'efi', 'linux-vm'] as const;
export type BoardTarget = (typeof BOARD_TARGETS)[number];
/** What image − weights may be on a bare-metal board (issue 14: at most weights + 128 KiB). */
export const BOARD_OVERHEAD_BUDGET = 128 * 1024;

export interface BoardRow {
  model: string;
  dtype: BenchDtype;
  target: BoardTarget;
  /** The file the board loads: kernel8.img, BOOTAA64.EFI, or /init inside linux-vm's initramfs. */
  imageFile?: string;
  imageBytes?: number;
  weightsBytes?: number;
  overheadBytes?: number;
  linuxVm?: { kernelBytes: number; initramfsBytes: number; totalBytes: number; debianKernelBytes?: number; debianTotalBytes?: number; debianName?: string };
  error?: string;
}

export interface BoardsReport {
  rows: BoardRow[];
  how: string;
}
