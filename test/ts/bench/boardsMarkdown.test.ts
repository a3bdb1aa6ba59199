import { BOARD_OVERHEAD_BUDGET, BoardsReport } from '../../../src/toolchain/bench/boardsTypes';
import { boardsMarkdown } from '../../../src/toolchain/bench/boardsMarkdown';

const report: BoardsReport = {
  how: 'measured',
  rows: [
    { model: 'mobilenet_v2', dtype: 'int8', target: 'rpi3', imageFile: 'kernel8.img', imageBytes: 3_688_304, weightsBytes: 3_632_264, overheadBytes: 56_040 },
    { model: 'mobilenet_v2', dtype: 'int8', target: 'efi', imageFile: 'BOOTAA64.EFI', imageBytes: 3_900_000, weightsBytes: 3_632_264, overheadBytes: BOARD_OVERHEAD_BUDGET + 1 },
    {
      model: 'mobilenet_v2', dtype: 'int8', target: 'linux-vm', imageFile: 'image', imageBytes: 4_270_072, weightsBytes: 3_632_264, overheadBytes: 637_808,
      linuxVm: { kernelBytes: 3_581_960, initramfsBytes: 3_682_766, totalBytes: 7_264_726, debianKernelBytes: 27_303_872, debianTotalBytes: 30_986_638, debianName: 'Debian linux-image' }
    },
    { model: 'mobilenet_v2', dtype: 'float32', target: 'linux-vm', error: 'linux-source-6.1 is not installed' }
  ]
};

describe("the boards section's table", () => {
  const lines = boardsMarkdown(report).split('\n');
  const row = (target: string, dtype = 'int8') => lines.find(l => l.startsWith(`| mobilenet_v2 | ${dtype} | ${target} |`))!;
  const cells = (line: string) => line.split('|').slice(1, -1).map(c => c.trim());

  it('has one row per build, every row as many cells as the header', () => {
    const header = lines.find(l => l.startsWith('| model |'))!;
    for (const target of ['rpi3', 'efi', 'linux-vm']) expect(cells(row(target))).toHaveLength(cells(header).length);
    expect(cells(row('linux-vm', 'float32'))).toHaveLength(cells(header).length);
  });

  it('holds a bare-metal image to its budget, and says when it is over', () => {
    expect(cells(row('rpi3'))[6]).toBe('56,040 ≤ 131,072');
    expect(cells(row('efi'))[6]).toBe('131,073 > 131,072');
  });

  it("shows linux-vm's kernel + initramfs beside Debian's kernel with the same initramfs", () => {
    expect(cells(row('linux-vm')).slice(7)).toEqual(['3,581,960 + 3,682,766 = 7,264,726', '27,303,872 + 3,682,766 = 30,986,638']);
  });

  it('says why a build failed', () => {
    expect(row('linux-vm', 'float32')).toContain('build failed: linux-source-6.1 is not installed');
  });
});
