// The linux target (a static AArch64 executable under qemu-aarch64) and profiling builds,
// with the real capture, cross compiler and emulators, on a small captured model.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { BuildManifest, Footprint, RunReport } from '../../../src/common/types';
import { buildBundle } from '../../../src/toolchain/build/buildBundle';
import { createReporter } from '../../../src/toolchain/events';
import { runBuild } from '../../../src/toolchain/run/runBuild';
import { captureFromSource } from '../run/captureHelper';

// A stem convolution, an inverted-residual block (1x1 expand, 3x3 depthwise, 1x1 project,
// residual add), a strided convolution, global pooling and a classifier.
const TINY_NET = `
import torch
from torch import nn

class TinyNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 24, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(24), nn.ReLU6())
        self.expand = nn.Sequential(nn.Conv2d(24, 48, 1, bias=False), nn.BatchNorm2d(48), nn.ReLU6())
        self.depthwise = nn.Sequential(nn.Conv2d(48, 48, 3, padding=1, groups=48, bias=False), nn.BatchNorm2d(48), nn.ReLU6())
        self.project = nn.Sequential(nn.Conv2d(48, 24, 1, bias=False), nn.BatchNorm2d(24))
        self.down = nn.Sequential(nn.Conv2d(24, 32, 3, stride=2, padding=1), nn.ReLU())
        self.head = nn.Linear(32, 10)

    def forward(self, x):
        x = self.stem(x)
        x = x + self.project(self.depthwise(self.expand(x)))
        x = self.down(x)
        return self.head(x.mean((2, 3)))

def tiny():
    torch.manual_seed(1)
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

function expectAgreement(report: RunReport): void {
  expect(report.status).toBe('ok');
  const a = report.agreement!;
  expect(a.max_abs_reference).toBeGreaterThan(0);
  expect(a.max_abs_error).toBeLessThanOrEqual(a.tolerance);
  expect(a.top5).toEqual(a.reference_top5);
}

beforeAll(async () => {
  root = mkdtempSync(path.join(tmpdir(), 'edgespec-linux-'));
  bundle = await captureFromSource(root, TINY_NET, 'tiny', '1x3x48x48');
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

it('a linux build is one static AArch64 executable with footprint.json, and runs under qemu-aarch64 agreeing with PyTorch', async () => {
  const outDir = path.join(root, 'linux');
  const built = await buildBundle({ bundleDir: bundle, target: 'linux', outDir });
  const manifest = readJson<BuildManifest>(path.join(outDir, 'build.json'));
  expect(manifest.target).toBe('linux');
  expect(manifest.linux).toEqual({ emulator: 'qemu-aarch64', cpu: 'cortex-a72' });
  expect(manifest.profile).toBeUndefined();

  const elf = readFileSync(path.join(outDir, manifest.image));
  expect(elf.subarray(0, 4).toString('latin1')).toBe('\x7fELF');
  expect(elf.readUInt16LE(18)).toBe(183); // e_machine EM_AARCH64
  expect(elf.readUInt16LE(16)).toBe(2); // e_type ET_EXEC: static, not position-independent
  const footprint = readJson<Footprint>(path.join(outDir, 'footprint.json'));
  expect(footprint.totals.image_bytes.value).toBe(elf.length);
  expect(built.footprint.totals.weights_bytes.value).toBeGreaterThan(0);

  const { report } = await runBuild({ buildDir: outDir, reporter: quiet });
  expect(report.target).toBe('linux');
  expectAgreement(report);
  expect(report.wall_ms.how).toMatch(/qemu-aarch64 -cpu cortex-a72/);
  expect(report.guest_instructions).toBeUndefined(); // user mode has no -icount
  expect(report.console).toMatch(/edgespec: invoke_ns=\d+/);
  expect(report.profile).toBeUndefined();
});

it('a linux run with an input of the wrong size fails with a clear error, not a crash', async () => {
  const outDir = path.join(root, 'linux');
  const wrong = path.join(root, 'wrong.bin');
  writeFileSync(wrong, Buffer.alloc(3 * 4));
  await expect(runBuild({ buildDir: outDir, inputFile: wrong, reporter: quiet })).rejects.toThrow(/bytes|size/);
});

it('a profiling qemu-virt build counts guest instructions per step, summing to the whole invoke count', async () => {
  const outDir = path.join(root, 'qemu-virt-profile');
  await buildBundle({ bundleDir: bundle, target: 'qemu-virt', outDir, profile: true });
  const manifest = readJson<BuildManifest>(path.join(outDir, 'build.json'));
  expect(manifest.profile!.unit).toBe('instructions');
  expect(readFileSync(path.join(outDir, 'model.c'), 'utf8')).toMatch(/es_profile_marks\[1\] = es_profile_now\(\);/);

  const { report } = await runBuild({ buildDir: outDir, reporter: quiet });
  expectAgreement(report);
  const profile = report.profile!;
  expect(profile.unit).toBe('instructions');
  expect(profile.steps.map(s => s.step)).toEqual(manifest.profile!.steps.map(s => s.step));
  const convs = profile.steps.filter(s => s.op === 'conv2d');
  expect(convs.map(s => s.kernel)).toEqual(expect.arrayContaining(['conv2d', 'conv2d_depthwise']));
  expect(convs.map(s => s.module)).toEqual(expect.arrayContaining(['stem.0', 'depthwise.0']));
  // the stem's 24x24x24 outputs of a 3x3x3 convolution are 373k multiply-adds
  expect(profile.steps.find(s => s.module === 'stem.0' && s.op === 'conv2d')!.count).toBeGreaterThan(100_000);
  expect(profile.total).toBe(profile.steps.reduce((sum, s) => sum + s.count, 0));
  const whole = report.guest_instructions!.value;
  expect(Math.abs(profile.total - whole) / whole).toBeLessThan(0.03);
});

it('a profiling linux build reports nanoseconds per step under qemu-aarch64', async () => {
  const outDir = path.join(root, 'linux-profile');
  await buildBundle({ bundleDir: bundle, target: 'linux', outDir, profile: true });
  const { report } = await runBuild({ buildDir: outDir, reporter: quiet });
  expectAgreement(report);
  const profile = report.profile!;
  expect(profile.unit).toBe('ns');
  expect(profile.steps.length).toBeGreaterThan(5);
  const invokeNs = Number(/edgespec: invoke_ns=(\d+)/.exec(report.console)![1]);
  expect(profile.total).toBeLessThanOrEqual(invokeNs);
  expect(profile.total).toBeGreaterThan(0.8 * invokeNs);
  expect(existsSync(path.join(outDir, 'run.json'))).toBe(true);
});
