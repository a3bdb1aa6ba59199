// The linux-vm target: a Linux kernel and an initramfs whose /init is the model, booted in
// qemu-system-aarch64 -M virt, with the real capture, cross compiler, kernel sources and QEMU.
// The purpose-built kernel is built once per configuration (the first run on a machine takes
// many minutes; the cache in ~/.cache/edgespec/linux-vm then makes every build fast). Debian's
// generic kernel must have been fetched (scripts/debian-arm64-kernel.sh, run by setup.sh).
import execa from 'execa';
import { execFileSync } from 'child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { gunzipSync } from 'zlib';
import { BuildManifest, Footprint, RunReport } from '../../../src/common/types';
import { buildBundle } from '../../../src/toolchain/build/buildBundle';
import { PLANT_FAULT_VARIABLE } from '../../../src/toolchain/build/plantFault';
import { newcArchive } from '../../../src/toolchain/linuxVm/cpio';
import { runBuild } from '../../../src/toolchain/run/runBuild';
import { runStream } from '../../../src/toolchain/run/streamRun';
import { locatePython, pythonEnv } from '../../../src/toolchain/tools/locate';
import { createReporter } from '../../../src/toolchain/events';
import { captureFromSource } from '../run/captureHelper';

// A stem convolution, a depthwise block with a residual add, pooling and a classifier.
const SMALL_NET = `
import torch
from torch import nn

class SmallNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, stride=2, padding=1), nn.ReLU6())
        self.depthwise = nn.Sequential(nn.Conv2d(16, 16, 3, padding=1, groups=16), nn.ReLU())
        self.head = nn.Linear(16, 7)

    def forward(self, x):
        x = self.stem(x)
        x = x + self.depthwise(x)
        return self.head(x.mean((2, 3)))

def small():
    torch.manual_seed(3)
    return SmallNet()
`;

// A second, different model: its build must reuse the cached kernel.
const MLP = `
import torch
from torch import nn

def mlp():
    torch.manual_seed(5)
    return nn.Sequential(nn.Flatten(), nn.Linear(3 * 8 * 8, 32), nn.Tanh(), nn.Linear(32, 5))
`;

// A model of issue 13's new ops: a two-layer batch_first GRU (its zero initial state folded).
const GRU = `
import torch
from torch import nn

class GruNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(8, 16, num_layers=2, batch_first=True)
        self.head = nn.Linear(16, 4)

    def forward(self, x):
        y, _ = self.gru(x)
        return self.head(y[:, -1])

def gru():
    torch.manual_seed(4)
    return GruNet().eval()
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

/** The entries of a newc archive (name → data), read back by hand. */
function readNewc(archive: Buffer): Map<string, { mode: number; data: Buffer; rdev: [number, number] }> {
  const entries = new Map<string, { mode: number; data: Buffer; rdev: [number, number] }>();
  let at = 0;
  const align = (n: number) => (n + 3) & ~3;
  while (at < archive.length) {
    expect(archive.subarray(at, at + 6).toString('ascii')).toBe('070701');
    const field = (i: number) => parseInt(archive.subarray(at + 6 + 8 * i, at + 14 + 8 * i).toString('ascii'), 16);
    const size = field(6);
    const nameSize = field(11);
    const name = archive.subarray(at + 110, at + 110 + nameSize - 1).toString('utf8');
    const dataAt = align(at + 110 + nameSize);
    if (name === 'TRAILER!!!') break;
    entries.set(name, { mode: field(1), data: archive.subarray(dataAt, dataAt + size), rdev: [field(9), field(10)] });
    at = align(dataAt + size);
  }
  return entries;
}

beforeAll(async () => {
  root = mkdtempSync(path.join(tmpdir(), 'edgespec-linux-vm-'));
  bundle = await captureFromSource(root, SMALL_NET, 'small', '1x3x32x32');
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

it('newc archives are what Debian\'s cpio reads: names, modes, sizes and a device node', async () => {
  const archive = newcArchive([
    { kind: 'dir', name: 'dev' },
    { kind: 'char-device', name: 'dev/console', major: 5, minor: 1 },
    { kind: 'file', name: 'init', data: Buffer.from('#!odd length'), mode: 0o755 },
    { kind: 'file', name: 'input.bin', data: Buffer.alloc(4096, 7) }
  ]);
  const file = path.join(root, 'test.cpio');
  writeFileSync(file, archive);
  const listed = await execa('cpio', ['-itv', '-F', file], { reject: false, env: { LC_ALL: 'C' } });
  expect(listed.exitCode).toBe(0);
  const lines = listed.stdout.trim().split('\n');
  expect(lines.map(l => l.split(/\s+/).pop())).toEqual(['dev', 'dev/console', 'init', 'input.bin']);
  expect(lines[0]).toMatch(/^drwxr-xr-x/);
  expect(lines[1]).toMatch(/^crw-------.*\b5,\s+1\b/);
  expect(lines[2]).toMatch(/^-rwxr-xr-x.* 12 /);
  expect(lines[3]).toMatch(/^-rw-r--r--.* 4096 /);
  expect(() => newcArchive([{ kind: 'file', name: '../escape', data: Buffer.alloc(1) }])).toThrow(/cpio entry name/);
});

it('a linux-vm build with the purpose-built kernel boots in QEMU and agrees with PyTorch; its initramfs is /init and /dev/console', async () => {
  const outDir = path.join(root, 'vm');
  const built = await buildBundle({ bundleDir: bundle, target: 'linux-vm', outDir });
  const manifest = readJson<BuildManifest>(path.join(outDir, 'build.json'));
  const vm = manifest.linux_vm!;
  expect(manifest.target).toBe('linux-vm');
  expect(vm.kernel.kind).toBe('purpose-built');
  expect(vm.kernel.version).toMatch(/^6\.1\./);
  expect(vm.qemu).toEqual({ machine: 'virt', cpu: 'cortex-a72', memory: '512M' });

  const kernel = readFileSync(path.join(outDir, vm.kernel.file));
  expect(kernel.subarray(56, 60).toString('latin1')).toBe('ARM\x64'); // the arm64 Image header's magic
  expect(kernel.length).toBe(vm.kernel.bytes);
  // purpose-built: a fraction of a generic kernel
  expect(kernel.length).toBeLessThan(8 * 1024 * 1024);

  const entries = readNewc(gunzipSync(readFileSync(path.join(outDir, vm.initramfs.file))));
  expect([...entries.keys()]).toEqual(['dev', 'dev/console', 'init']);
  expect(entries.get('init')!.data.equals(readFileSync(path.join(outDir, manifest.image)))).toBe(true);
  expect(entries.get('init')!.mode & 0o777).toBe(0o755);
  expect(entries.get('dev/console')!.rdev).toEqual([5, 1]);

  const footprint = readJson<Footprint>(path.join(outDir, 'footprint.json'));
  const fv = footprint.linux_vm!;
  expect(fv.total_bytes).toBe(vm.kernel.bytes + vm.initramfs.bytes);
  expect(fv.model_bytes).toBe(footprint.totals.image_bytes.value);
  expect(fv.weights_bytes).toBe(built.footprint.totals.weights_bytes.value);
  expect(fv.generic_kernel!.image_bytes).toBeGreaterThan(4 * fv.kernel.bytes);
  expect(footprint.reference_stack!.some(l => /Debian linux-image-.*-cloud-arm64/.test(l.name))).toBe(true);

  const input = path.join(root, 'vm-input.bin');
  const { report } = await runBuild({ buildDir: outDir, reporter: quiet, onWorkDir: async dir => writeFileSync(input, readFileSync(path.join(dir, 'input.bin'))) });
  expect(report.target).toBe('linux-vm');
  expectAgreement(report);
  expect(report.console).toMatch(/edgespec: invoke_ns=\d+/);
  expect(report.console).toMatch(/edgespec: init: exit=0/);
  expect(report.wall_ms.how).toMatch(/purpose-built kernel 6\.1/);

  // boot.sh boots the same way with the real QEMU and cpio: console lines, the output frame, power off
  const booted = await execa('sh', [path.join(outDir, 'boot.sh'), input], { cwd: root, reject: false, timeout: 120_000, encoding: null });
  expect(booted.exitCode).toBe(0);
  const consoleBytes = booted.stdout as unknown as Buffer;
  expect(consoleBytes.toString('latin1')).toMatch(/edgespec: status=ok[\s\S]*\xe5ESF[\s\S]*edgespec: init: exit=0/);
});

it('a second model reuses the cached purpose-built kernel: same Image bytes, no kernel compile', async () => {
  const other = await captureFromSource(root, MLP, 'mlp', '1x3x8x8');
  const outDir = path.join(root, 'vm-mlp');
  const stages: string[] = [];
  const reporter = createReporter(true, line => stages.push(line), () => undefined);
  const started = Date.now();
  await buildBundle({ bundleDir: other, target: 'linux-vm', outDir, reporter });
  const seconds = (Date.now() - started) / 1000;
  expect(stages.some(l => /"stage":"kernel"/.test(l) && /"done":[1-9]/.test(l))).toBe(false); // nothing compiled
  const first = readJson<BuildManifest>(path.join(root, 'vm', 'build.json')).linux_vm!;
  const second = readJson<BuildManifest>(path.join(outDir, 'build.json')).linux_vm!;
  expect(second.kernel.sha256).toBe(first.kernel.sha256);
  expect(seconds).toBeLessThan(300); // a kernel compile takes far longer on this machine
  const { report } = await runBuild({ buildDir: outDir, reporter: quiet });
  expectAgreement(report);
});

it('edgespec run --inputs streams inputs through one boot: /init serves frames on the console, each answer agrees', async () => {
  const steps = 4;
  execFileSync(locatePython().path!, ['-c', `
import sys, numpy as np, torch
sys.path.insert(0, ${JSON.stringify(root)})
from small_model import small
m = small().eval()
x = np.random.default_rng(2).standard_normal((${steps}, 1, 3, 32, 32)).astype(np.float32)
np.save(${JSON.stringify(path.join(root, 'inputs.npy'))}, x)
with torch.no_grad():
    np.save(${JSON.stringify(path.join(root, 'expected.npy'))}, np.stack([m(torch.from_numpy(s)).numpy() for s in x]))
`], { env: pythonEnv() });
  const { report } = await runStream({ buildDir: path.join(root, 'vm'), inputs: path.join(root, 'inputs.npy'), expected: path.join(root, 'expected.npy'), timeoutS: 120, reporter: quiet });
  expect(report.error).toBeUndefined();
  expect(report.status).toBe('ok');
  expect(report.stream!.answered).toBe(steps);
  expect(report.stream!.agreeing).toBe(steps);
  expect(report.stream!.steps.every(s => s.invoke_ns! > 0)).toBe(true);
  expect(report.console).toMatch(/edgespec: init: exit=0/);
});

it('a two-layer GRU (issue 13\'s recurrent ops) boots and agrees', async () => {
  const gru = await captureFromSource(root, GRU, 'gru', '1x5x8');
  const outDir = path.join(root, 'vm-gru');
  await buildBundle({ bundleDir: gru, target: 'linux-vm', outDir });
  const { report } = await runBuild({ buildDir: outDir, reporter: quiet });
  expectAgreement(report);
});

it('the same model with Debian\'s generic arm64 kernel boots and agrees', async () => {
  const outDir = path.join(root, 'vm-debian');
  await buildBundle({ bundleDir: bundle, target: 'linux-vm', outDir, kernel: 'debian' });
  const manifest = readJson<BuildManifest>(path.join(outDir, 'build.json'));
  expect(manifest.linux_vm!.kernel.kind).toBe('debian');
  expect(manifest.linux_vm!.kernel.source).toMatch(/linux-image-.*-cloud-arm64/);
  const purpose = readJson<BuildManifest>(path.join(root, 'vm', 'build.json')).linux_vm!;
  expect(manifest.linux_vm!.initramfs.sha256).toBe(purpose.initramfs.sha256); // same /init, either kernel
  const { report } = await runBuild({ buildDir: outDir, reporter: quiet });
  expectAgreement(report);
});

it('a fault in /init is reported with the signal, the address and the symbol, and the machine still powers off', async () => {
  const outDir = path.join(root, 'vm-fault');
  process.env[PLANT_FAULT_VARIABLE] = 'cpu-fault';
  try {
    await buildBundle({ bundleDir: bundle, target: 'linux-vm', outDir });
  } finally {
    delete process.env[PLANT_FAULT_VARIABLE];
  }
  const { report } = await runBuild({ buildDir: outDir, reporter: quiet, timeoutS: 120 });
  expect(report.status).toBe('fault');
  expect(report.fault!.exception_class).toBe('signal SIGSEGV');
  expect(report.fault!.address).toMatch(/^0x10$/);
  expect(report.fault!.symbol).toMatch(/^es_vm_planted_fault\+0x[0-9a-f]+ \(pc 0x[0-9a-f]+\)$/);
  expect(report.console).toMatch(/edgespec: init: exit=3/);
  expect(existsSync(path.join(outDir, 'run-outputs'))).toBe(false);

  // a build replaces a linux-vm build directory (kernel.Image and initramfs.cpio.gz are its own files)
  await buildBundle({ bundleDir: bundle, target: 'linux-vm', outDir });
  const again = await runBuild({ buildDir: outDir, reporter: quiet });
  expectAgreement(again.report);
});

it('a tampered kernel.Image is refused before QEMU starts', async () => {
  const outDir = path.join(root, 'vm-debian');
  const file = path.join(outDir, 'kernel.Image');
  const bytes = readFileSync(file);
  bytes[100] ^= 0xff;
  writeFileSync(file, bytes);
  await expect(runBuild({ buildDir: outDir, reporter: quiet })).rejects.toThrow(/kernel\.Image has sha256 .* but build\.json records/);
});
