// capture -> build -> run on a small real PyTorch model, on both targets, with the real
// capture, cross compiler, QEMU and host compiler; and the same through the Python API.
import execa from 'execa';
import { existsSync, mkdtempSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { buildBundle } from '../../../src/toolchain/build/buildBundle';
import { locatePython, pythonEnv } from '../../../src/toolchain/tools/locate';
import { createReporter } from '../../../src/toolchain/events';
import { repoPath } from '../../../src/toolchain/paths';
import { runBuild } from '../../../src/toolchain/run/runBuild';
import { captureFromSource } from './captureHelper';

// Convolution with batch norm and relu6, a depthwise block with a residual add, max pooling,
// global average pooling and a classifier: the shape of the torchvision models, small.
const SMALL_CNN = `
import torch
from torch import nn

class SmallNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU6())
        self.block = nn.Sequential(
            nn.Conv2d(16, 16, 3, padding=1, groups=16, bias=False), nn.BatchNorm2d(16), nn.ReLU(),
            nn.Conv2d(16, 16, 1, bias=False), nn.BatchNorm2d(16))
        self.pool = nn.MaxPool2d(2)
        self.head = nn.Linear(16, 10)

    def forward(self, x):
        x = self.stem(x)
        x = x + self.block(x)
        x = self.pool(x)
        x = x.mean((2, 3))
        return self.head(x)

def small():
    torch.manual_seed(0)
    model = SmallNet()
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

beforeAll(async () => {
  root = mkdtempSync(path.join(tmpdir(), 'edgespec-e2e-run-'));
  bundle = await captureFromSource(root, SMALL_CNN, 'small', '1x3x32x32');
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

it.each(['qemu-virt', 'host'] as const)('a captured model built for %s runs and agrees with PyTorch', async target => {
  const outDir = path.join(root, target);
  await buildBundle({ bundleDir: bundle, target, outDir });
  const { report } = await runBuild({ buildDir: outDir, reporter: quiet });
  expect(report.status).toBe('ok');
  expect(report.model).toBe('small');
  expect(report.outputs[0].shape).toEqual([1, 10]);
  const a = report.agreement!;
  expect(a.max_abs_reference).toBeGreaterThan(0);
  expect(a.max_abs_error).toBeLessThanOrEqual(a.tolerance);
  expect(a.top5).toEqual(a.reference_top5);
  if (target === 'qemu-virt') {
    // 16x16x16 outputs of a 3x3x3 conv alone are 110k multiply-adds
    expect(report.guest_instructions!.value).toBeGreaterThan(100_000);
  }
});

it('the Python API builds and runs it too', async () => {
  const cli = repoPath('lib', 'toolchain', 'cli.js');
  expect(existsSync(cli) ? cli : 'lib/toolchain/cli.js is missing: run npm run build first').toBe(cli);
  const out = path.join(root, 'api-host');
  const code = `
import json
from edgespec.api import build, run
events = []
built = build(${JSON.stringify(bundle)}, target="host", out=${JSON.stringify(out)}, on_event=events.append)
report = run(built["dir"])
print(json.dumps({"dir": built["dir"], "target": built["manifest"]["target"], "status": report["status"],
                  "progress": any(e["event"] == "progress" for e in events)}))
`;
  const result = await execa(locatePython().path!, ['-c', code], { env: pythonEnv(), extendEnv: false, reject: false });
  if (result.exitCode !== 0) throw new Error(`python failed:\n${result.stdout}\n${result.stderr}`);
  expect(JSON.parse(result.stdout.trim().split('\n').pop()!)).toEqual({ dir: out, target: 'host', status: 'ok', progress: true });
});
