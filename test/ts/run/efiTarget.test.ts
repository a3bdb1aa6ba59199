// The efi target end to end: a small PyTorch model captured by the real capture, built into
// BOOTAA64.EFI and efi-boot.img with the real cross compiler, objcopy, mkfs.fat and mtools,
// and booted under Debian's EDK2 firmware (AAVMF) in the real qemu-system-aarch64.
import execa from 'execa';
import { mkdtempSync, promises as fs, rmSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { BuildManifest, Footprint } from '../../../src/common/types';
import { buildBundle } from '../../../src/toolchain/build/buildBundle';
import { parsePeImage } from '../../../src/toolchain/build/peImage';
import { PLANT_FAULT_VARIABLE } from '../../../src/toolchain/build/plantFault';
import { createReporter } from '../../../src/toolchain/events';
import { PARTITION_OFFSET, partitionSpec } from '../../../src/toolchain/efi/fatDisk';
import { encodeIoFile, IO_KIND_INPUTS } from '../../../src/toolchain/guest/ioFile';
import { runBuild } from '../../../src/toolchain/run/runBuild';
import { captureFromSource } from './captureHelper';

const MODEL = `
import torch
def small():
    torch.manual_seed(0)
    return torch.nn.Sequential(
        torch.nn.Conv2d(3, 8, 3, padding=1), torch.nn.ReLU(),
        torch.nn.Conv2d(8, 8, 3, stride=2, padding=1, groups=8), torch.nn.Sigmoid(),
        torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), torch.nn.Linear(8, 10)).eval()
`;

let root: string;
let bundle: string;
let efiDir: string;
const quiet = createReporter(true, () => undefined, () => undefined);

beforeAll(async () => {
  root = mkdtempSync(path.join(tmpdir(), 'edgespec-efi-'));
  bundle = await captureFromSource(root, MODEL, 'small', '1x3x16x16');
  efiDir = path.join(root, 'efi');
  await buildBundle({ bundleDir: bundle, target: 'efi', outDir: efiDir, cacheDir: null });
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('efi build', () => {
  it('writes a PE/COFF EFI application whose footprint accounts for every byte', async () => {
    const manifest = JSON.parse(await fs.readFile(path.join(efiDir, 'build.json'), 'utf8')) as BuildManifest;
    expect(manifest.image).toBe('BOOTAA64.EFI');
    const app = await fs.readFile(path.join(efiDir, 'BOOTAA64.EFI'));
    const pe = app.readUInt32LE(0x3c);
    expect(app.toString('latin1', pe, pe + 4)).toBe('PE\0\0');
    expect(app.readUInt16LE(pe + 4)).toBe(0xaa64); // IMAGE_FILE_MACHINE_ARM64
    const optional = pe + 24;
    expect(app.readUInt16LE(optional + 68)).toBe(10); // subsystem: EFI application
    const parsed = parsePeImage(app);
    expect(parsed.sections.map(s => s.name)).toEqual(expect.arrayContaining(['.text', '.rodata', '.data', '.reloc']));
    for (const s of parsed.sections) expect(s.rva % 4096).toBe(0);

    const footprint = JSON.parse(await fs.readFile(path.join(efiDir, 'footprint.json'), 'utf8')) as Footprint;
    expect(footprint.image.file).toBe('BOOTAA64.EFI');
    expect(footprint.totals.image_bytes.value).toBe(app.length);
    const flash = footprint.tree.children!.find(c => c.name === 'flash')!;
    expect(flash.bytes).toBe(app.length);
    expect(flash.children!.map(c => c.name)).toEqual(expect.arrayContaining(['weights', 'op kernels']));
  });

  it('writes an MBR disk image whose EFI System partition holds EFI/BOOT/BOOTAA64.EFI', async () => {
    const disk = path.join(efiDir, 'efi-boot.img');
    const head = Buffer.alloc(512);
    const handle = await fs.open(disk, 'r');
    await handle.read(head, 0, 512, 0);
    await handle.close();
    expect(head.readUInt16LE(510)).toBe(0xaa55);
    expect(head[446 + 4]).toBe(0xef);
    expect(head.readUInt32LE(446 + 8) * 512).toBe(PARTITION_OFFSET);
    const copy = path.join(root, 'from-disk.efi');
    await execa('mcopy', ['-n', '-i', partitionSpec(disk), '::/EFI/BOOT/BOOTAA64.EFI', copy], { env: { MTOOLS_SKIP_CHECK: '1' } });
    expect(await fs.readFile(copy)).toEqual(await fs.readFile(path.join(efiDir, 'BOOTAA64.EFI')));
  });
});

describe('efi run under EDK2', () => {
  it('boots, reads input.bin, writes output.bin and agrees with PyTorch', async () => {
    const { report } = await runBuild({ buildDir: efiDir, reporter: quiet, timeoutS: 240 });
    expect(report.status).toBe('ok');
    expect(report.exit_code).toBe(0);
    expect(report.agreement).toMatchObject({ within_tolerance: true, top1_match: true, top5_match: true });
    expect(report.agreement!.max_abs_error).toBeLessThanOrEqual(1e-4 * report.agreement!.max_abs_reference);
    expect(report.guest_instructions!.value).toBeGreaterThan(1000);
    expect(report.console).toContain('edgespec: model=small inputs=1 outputs=1');
  });

  it('reports a fault with its exception class and symbol, at the address the firmware loaded the image', async () => {
    const faultDir = path.join(root, 'efi-fault');
    process.env[PLANT_FAULT_VARIABLE] = 'cpu-fault';
    try {
      await buildBundle({ bundleDir: bundle, target: 'efi', outDir: faultDir, cacheDir: null });
    } finally {
      delete process.env[PLANT_FAULT_VARIABLE];
    }
    const { report } = await runBuild({ buildDir: faultDir, reporter: quiet, timeoutS: 240 });
    expect(report.status).toBe('fault');
    expect(report.exit_code).toBe(3);
    expect(report.fault!.exception_class).toContain('data abort (same EL)');
    expect(report.fault!.address).toBe('0xfff0000000000');
    expect(report.fault!.symbol).toMatch(/^es_test_fault_read\+0x0 \(pc 0x[0-9a-f]+\)$/);
    expect(report.console).toMatch(/load_offset=0x[0-9a-f]+ symbol=es_test_fault_read/);
  });

  // after the first run: it compares with that run's saved output
  it("boots the build's efi-boot.img as written, through boot.sh (input added with mcopy, output.bin copied out)", async () => {
    const work = path.join(root, 'boot-sh');
    await fs.mkdir(work);
    const input = path.join(work, 'in.bin');
    const reference = await fs.readFile(path.join(bundle, 'reference.safetensors'));
    const headerBytes = reference.readUInt32LE(0);
    const header = JSON.parse(reference.toString('utf8', 8, 8 + headerBytes)) as Record<string, { data_offsets: [number, number] }>;
    const [from, to] = header['input.0'].data_offsets;
    await fs.writeFile(input, encodeIoFile(IO_KIND_INPUTS, [reference.subarray(8 + headerBytes + from, 8 + headerBytes + to)]));
    const boot = await execa(path.join(efiDir, 'boot.sh'), [input], { cwd: work, reject: false, timeout: 240_000, all: true, stdin: 'ignore' });
    expect(boot.all).toContain('edgespec: status=ok');
    expect(boot.exitCode).toBe(0);
    const output = await fs.readFile(path.join(work, 'output.bin'));
    const ran = await fs.readFile(path.join(efiDir, 'run-outputs', (await fs.readdir(path.join(efiDir, 'run-outputs')))[0]));
    // the same ten logits as the run through edgespec run (its .npy holds them after a header)
    const logits = output.subarray(64, 64 + 40);
    expect(ran.subarray(ran.length - 40)).toEqual(logits);
  });
});
