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
import { runStream } from '../../../src/toolchain/run/streamRun';
import { encodeNpy } from '../../../src/toolchain/run/npy';
import { launch } from '../../../src/toolchain/run/launch';
import { finishEfiRun } from '../../../src/toolchain/efi/efiRun';
import { efiQemuArgs } from '../../../src/toolchain/guest/guestArgs';
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

/** One tensor of the bundle's reference.safetensors: its bytes and shape. */
async function referenceTensor(bundleDir: string, name: string): Promise<{ data: Buffer; shape: number[] }> {
  const file = await fs.readFile(path.join(bundleDir, 'reference.safetensors'));
  const headerBytes = file.readUInt32LE(0);
  const header = JSON.parse(file.toString('utf8', 8, 8 + headerBytes)) as Record<string, { shape: number[]; data_offsets: [number, number] }>;
  const [from, to] = header[name].data_offsets;
  return { data: file.subarray(8 + headerBytes + from, 8 + headerBytes + to), shape: header[name].shape };
}

let root: string;
/** One object cache for the test's builds: the rebuild and the fault build compile little. */
const objectCache = () => path.join(root, 'objects');
let bundle: string;
let efiDir: string;
const quiet = createReporter(true, () => undefined, () => undefined);

beforeAll(async () => {
  root = mkdtempSync(path.join(tmpdir(), 'edgespec-efi-'));
  bundle = await captureFromSource(root, MODEL, 'small', '1x3x16x16');
  efiDir = path.join(root, 'efi');
  await buildBundle({ bundleDir: bundle, target: 'efi', outDir: efiDir, cacheDir: objectCache() });
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

  it('builds again into the same directory, replacing the first build byte for byte', async () => {
    const before = await fs.readFile(path.join(efiDir, 'efi-boot.img'));
    await buildBundle({ bundleDir: bundle, target: 'efi', outDir: efiDir, cacheDir: objectCache() });
    expect(await fs.readFile(path.join(efiDir, 'efi-boot.img'))).toEqual(before);
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
  it('refuses an input.bin that is not the model\'s, saying so, and powers off with exit 2', async () => {
    const work = path.join(root, 'bad-input');
    await fs.mkdir(work);
    const bad = encodeIoFile(IO_KIND_INPUTS, [Buffer.alloc(3 * 16 * 16 * 4)]);
    bad.write('NOTEDGES', 0, 'latin1');
    await fs.writeFile(path.join(work, 'input.bin'), bad);
    const manifest = JSON.parse(await fs.readFile(path.join(efiDir, 'build.json'), 'utf8')) as BuildManifest;
    const efi = { machine: manifest.efi!.machine, cpu: manifest.efi!.cpu, memory: manifest.efi!.memory, firmwareCode: manifest.efi!.firmware_code, firmwareVars: manifest.efi!.firmware_vars, diskImage: manifest.efi!.disk_image };
    await fs.copyFile(path.join(efiDir, 'efi-boot.img'), path.join(work, 'disk.img'));
    await fs.copyFile(efi.firmwareVars, path.join(work, 'vars.fd'));
    await execa('mcopy', ['-i', partitionSpec(path.join(work, 'disk.img')), path.join(work, 'input.bin'), '::/input.bin'], { env: { MTOOLS_SKIP_CHECK: '1' } });
    const launched = await launch({ command: 'qemu-system-aarch64', args: efiQemuArgs(efi, { disk: path.join(work, 'disk.img'), vars: path.join(work, 'vars.fd') }), cwd: work, timeoutMs: 240_000 });
    const finished = await finishEfiRun(launched, work);
    expect(finished.timedOut).toBe(false);
    expect(finished.console).toMatch(/edgespec: error: input\.bin on the boot volume: .*magic/i);
    expect(finished.exitCode).toBe(2);
  });

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
      await buildBundle({ bundleDir: bundle, target: 'efi', outDir: faultDir, cacheDir: objectCache() });
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

  it('serves frames on the firmware\'s serial port when the volume has no input.bin: three inputs through one boot, each agreeing', async () => {
    const stacked = async (name: string) => {
      const t = await referenceTensor(bundle, name);
      return encodeNpy({ dtype: 'float32', shape: [3, ...t.shape], data: Buffer.concat([t.data, t.data, t.data]) });
    };
    const inputs = path.join(root, 'steps.npy');
    const expected = path.join(root, 'expected.npy');
    await fs.writeFile(inputs, await stacked('input.0'));
    await fs.writeFile(expected, await stacked('output.0'));
    const { report } = await runStream({ buildDir: efiDir, inputs, expected, reporter: quiet, timeoutS: 240 });
    expect(report.status).toBe('ok');
    expect(report.stream).toMatchObject({ inputs: 3, answered: 3, agreeing: 3 });
    expect(report.stream!.port).toContain('EFI_SERIAL_IO_PROTOCOL');
    for (const step of report.stream!.steps) expect(step.guest_instructions).toBeGreaterThan(1000);
  });

  it("boots the build's efi-boot.img as written, through boot.sh (input added with mcopy, output.bin copied out)", async () => {
    const work = path.join(root, 'boot-sh');
    await fs.mkdir(work);
    const input = path.join(work, 'in.bin');
    await fs.writeFile(input, encodeIoFile(IO_KIND_INPUTS, [(await referenceTensor(bundle, 'input.0')).data]));
    const boot = await execa(path.join(efiDir, 'boot.sh'), [input], { cwd: work, reject: false, timeout: 240_000, all: true, stdin: 'ignore' });
    expect(boot.all).toContain('edgespec: status=ok');
    expect(boot.exitCode).toBe(0);
    const output = await fs.readFile(path.join(work, 'output.bin'));
    const reference = (await referenceTensor(bundle, 'output.0')).data;
    const got = new Float32Array(output.buffer.slice(output.byteOffset + 64, output.byteOffset + 64 + reference.length));
    const want = new Float32Array(reference.buffer.slice(reference.byteOffset, reference.byteOffset + reference.length));
    const scale = Math.max(...Array.from(want, Math.abs));
    for (let i = 0; i < want.length; i++) expect(Math.abs(got[i] - want[i])).toBeLessThanOrEqual(1e-4 * scale);
  });
});
