// The rpi3 target (kernel8.img for a Raspberry Pi 3 / Zero 2 W), with the real capture,
// cross compiler and QEMU: built from a small captured model, booted in qemu-system-aarch64
// -M raspi3b as the firmware starts it, the input sent and the output read as frames over
// its UART, compared with PyTorch; and a planted fault reported with its symbol.
import { spawnSync } from 'child_process';
import { mkdtempSync, readFileSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { BuildManifest, Footprint, FootprintNode, RunReport } from '../../../src/common/types';
import { buildBundle } from '../../../src/toolchain/build/buildBundle';
import { PLANT_FAULT_VARIABLE } from '../../../src/toolchain/build/plantFault';
import { createReporter } from '../../../src/toolchain/events';
import { runBuild } from '../../../src/toolchain/run/runBuild';
import { captureFromSource } from './captureHelper';

jest.setTimeout(600_000);

// A stem convolution, an inverted-residual block, a strided convolution, pooling and a classifier.
const TINY_NET = `
import torch
from torch import nn

class TinyNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU6())
        self.expand = nn.Sequential(nn.Conv2d(16, 32, 1, bias=False), nn.BatchNorm2d(32), nn.ReLU6())
        self.depthwise = nn.Sequential(nn.Conv2d(32, 32, 3, padding=1, groups=32, bias=False), nn.BatchNorm2d(32), nn.ReLU6())
        self.project = nn.Sequential(nn.Conv2d(32, 16, 1, bias=False), nn.BatchNorm2d(16))
        self.down = nn.Sequential(nn.Conv2d(16, 24, 3, stride=2, padding=1), nn.ReLU())
        self.head = nn.Linear(24, 10)

    def forward(self, x):
        x = self.stem(x)
        x = x + self.project(self.depthwise(self.expand(x)))
        x = self.down(x)
        return self.head(x.mean((2, 3)))

def tiny():
    torch.manual_seed(3)
    model = TinyNet()
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.2, 0.2)
    return model
`;

let root: string;
let bundle: string;
const quiet = createReporter(true, () => undefined, () => undefined);
const readJson = <T>(file: string): T => JSON.parse(readFileSync(file, 'utf8')) as T;

function leafSum(node: FootprintNode): number {
  return node.children ? node.children.reduce((s, c) => s + leafSum(c), 0) : node.bytes;
}

beforeAll(async () => {
  root = mkdtempSync(path.join(tmpdir(), 'edgespec-rpi3-'));
  bundle = await captureFromSource(root, TINY_NET, 'tiny', '1x3x40x40');
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

it('an rpi3 build writes kernel8.img (the ELF from 0x80000 as raw bytes) and config.txt, and footprint.json measures kernel8.img', async () => {
  const outDir = path.join(root, 'rpi3');
  await buildBundle({ bundleDir: bundle, target: 'rpi3', outDir });
  const manifest = readJson<BuildManifest>(path.join(outDir, 'build.json'));
  expect(manifest.target).toBe('rpi3');
  expect(manifest.image).toBe('kernel8.img');
  expect(manifest.rpi3).toEqual({ qemu_machine: 'raspi3b', baud: 115200, elf: 'image.elf', config_txt: 'config.txt' });
  expect(manifest.host).toBeUndefined();

  const kernel8 = readFileSync(path.join(outDir, 'kernel8.img'));
  const elf = readFileSync(path.join(outDir, 'image.elf'));
  expect(elf.readBigUInt64LE(24)).toBe(0x80000n); // e_entry: where the firmware starts it
  // the first instruction of kernel8.img is the ELF's first at 0x80000 (.text starts with _start)
  const textOffset = Number(elf.readBigUInt64LE(elf.readUInt32LE(32) + 8)); // first program header's p_offset
  expect(kernel8.subarray(0, 64)).toEqual(elf.subarray(textOffset, textOffset + 64));
  expect(manifest.image_bytes).toBe(kernel8.length);

  const config = readFileSync(path.join(outDir, 'config.txt'), 'utf8').split('\n');
  for (const line of ['arm_64bit=1', 'kernel=kernel8.img', 'enable_uart=1', 'dtoverlay=disable-bt', 'init_uart_clock=48000000']) expect(config).toContain(line);

  const footprint = readJson<Footprint>(path.join(outDir, 'footprint.json'));
  expect(footprint.image.file).toBe('kernel8.img');
  expect(footprint.totals.image_bytes.value).toBe(kernel8.length);
  const flash = footprint.tree.children![0];
  expect(leafSum(flash)).toBe(kernel8.length);
  expect(flash.children!.map(c => c.name)).toEqual(expect.arrayContaining(['platform (boot, I/O, faults)', 'weights', 'op kernels']));
  expect(footprint.totals.overhead_bytes.value).toBeLessThanOrEqual(128 * 1024);
  // the input and output buffers are bss of the platform: no region for QEMU's loader
  expect(manifest.memory!.map(r => r.name)).toEqual(['image', 'ram']);

  // boot.sh boots it with the UART on its stdout: the console lines, then READY
  const booted = spawnSync('timeout', ['10', path.join(outDir, 'boot.sh')], { stdio: ['ignore', 'pipe', 'pipe'] });
  const said = booted.stdout.toString('latin1');
  expect(said).toMatch(/^edgespec: model=tiny inputs=1 outputs=1\n/);
  expect(said).toContain('\xe5ESF\x01\x00'); // READY's magic and type
});

it('an rpi3 image boots in QEMU raspi3b, takes its input as a frame on the UART and agrees with PyTorch', async () => {
  const outDir = path.join(root, 'rpi3');
  const { report } = await runBuild({ buildDir: outDir, reporter: quiet });
  expect(report.target).toBe('rpi3');
  expect(report.status).toBe('ok');
  const a = report.agreement!;
  expect(a.max_abs_reference).toBeGreaterThan(0);
  expect(a.max_abs_error).toBeLessThanOrEqual(a.tolerance);
  expect(a.top5).toEqual(a.reference_top5);
  expect(report.console).toMatch(/^edgespec: model=tiny inputs=1 outputs=1$/m);
  expect(report.console).toMatch(/^edgespec: serving on uart0 max_input_bytes=\d+$/m);
  expect(report.console).toMatch(/^edgespec: status=ok$/m);
  expect(report.exit_code).toBe(0);
  expect(report.wall_ms.how).toMatch(/raspi3b/);
  // no -icount (it slows QEMU's UART eightfold): run.json says so and counts nothing
  expect(report.wall_ms.how).toMatch(/not counted/);
  expect(report.guest_instructions).toBeUndefined();
});

it('an int8 rpi3 image agrees with PyTorch on top-1', async () => {
  const outDir = path.join(root, 'rpi3-int8');
  await buildBundle({ bundleDir: bundle, target: 'rpi3', outDir, dtype: 'int8' });
  const { report } = await runBuild({ buildDir: outDir, reporter: quiet });
  expect(report.status).toBe('ok');
  expect(report.dtype).toBe('int8');
  expect(report.agreement!.top1_match).toBe(true);
});

it('a fault in an rpi3 image is printed on the UART with its exception, address and symbol, and reported by the host', async () => {
  const outDir = path.join(root, 'rpi3-fault');
  process.env[PLANT_FAULT_VARIABLE] = 'cpu-fault';
  try {
    await buildBundle({ bundleDir: bundle, target: 'rpi3', outDir, cacheDir: null });
  } finally {
    delete process.env[PLANT_FAULT_VARIABLE];
  }
  const started = Date.now();
  const { report } = await runBuild({ buildDir: outDir, reporter: quiet, timeoutS: 60 });
  expect(Date.now() - started).toBeLessThan(30_000); // the host stops QEMU on the status line, not at the timeout
  expect(report.status).toBe('fault');
  expect(report.exit_code).toBe(3);
  expect(report.console).toMatch(/^edgespec: fault: synchronous exception: data abort \(same EL\), translation fault level 2, read$/m);
  expect(report.fault!.exception_class).toMatch(/data abort \(same EL\).*\(EC 0x25\)/);
  expect(report.fault!.address).toBe('0x3c000000');
  expect(report.fault!.symbol).toMatch(/^es_test_fault_unmapped_read\S*\+0x[0-9a-f]+ \(pc 0x8[0-9a-f]+\)$/);
  expect(report.error).toMatch(/faulted/);
});

it('a debug-tensors build for rpi3 is refused with what to do instead (a board has no semihosting to write the dump)', async () => {
  await expect(buildBundle({ bundleDir: bundle, target: 'rpi3', outDir: path.join(root, 'rpi3-debug'), debugTensors: true })).rejects.toThrow(/cannot dump its tensors: debug-tensors.bin is written through semihosting/);
});
