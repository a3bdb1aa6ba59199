/**
 * `edgespec run --inputs` on an rpi3 build: 100 inputs through one boot of kernel8.img in
 * QEMU's raspi3b, each sent and answered as frames over the PL011 UART and each agreeing with
 * PyTorch; and, for the wall-time comparison, separate boots of the same image, one input
 * each (`edgespec run --input`). Prints both wall times.
 */
import { execFileSync } from 'child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { buildBundle } from '../../../src/toolchain/build/buildBundle';
import { createReporter } from '../../../src/toolchain/events';
import { runBuild } from '../../../src/toolchain/run/runBuild';
import { runStream } from '../../../src/toolchain/run/streamRun';
import { locatePython, pythonEnv } from '../../../src/toolchain/tools/locate';
import { captureFromSource } from '../run/captureHelper';

jest.setTimeout(1_200_000);

const MODEL = `
import torch
from torch import nn

def tiny():
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 10)).eval()
`;
const STEPS = 100;
const SEPARATE_BOOTS = 10;

let root: string;
let bundle: string;
const quiet = createReporter(true, () => undefined, () => undefined);

beforeAll(async () => {
  root = mkdtempSync(path.join(tmpdir(), 'edgespec-rpi3-stream-'));
  bundle = await captureFromSource(root, MODEL, 'tiny', '1x3x16x16');
  execFileSync(locatePython().path!, ['-c', `
import sys, numpy as np, torch
sys.path.insert(0, ${JSON.stringify(root)})
from tiny_model import tiny
m = tiny()
x = np.random.default_rng(1).standard_normal((${STEPS}, 1, 3, 16, 16)).astype(np.float32)
np.save(${JSON.stringify(path.join(root, 'inputs.npy'))}, x)
for i in range(${SEPARATE_BOOTS}):
    np.save(${JSON.stringify(root)} + f'/input-{i}.npy', x[i])
with torch.no_grad():
    np.save(${JSON.stringify(path.join(root, 'expected.npy'))}, np.stack([m(torch.from_numpy(s)).numpy() for s in x]))
`], { env: pythonEnv() });
  await buildBundle({ bundleDir: bundle, target: 'rpi3', outDir: path.join(root, 'rpi3') });
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

it(`streams ${STEPS} inputs through one boot of kernel8.img in raspi3b, each agreeing with PyTorch, faster than separate boots`, async () => {
  const buildDir = path.join(root, 'rpi3');
  const { report } = await runStream({ buildDir, inputs: path.join(root, 'inputs.npy'), expected: path.join(root, 'expected.npy'), timeoutS: 120, reporter: quiet });
  expect(report.error).toBeUndefined();
  expect(report.status).toBe('ok');
  const stream = report.stream!;
  expect(stream.inputs).toBe(STEPS);
  expect(stream.answered).toBe(STEPS);
  expect(stream.agreeing).toBe(STEPS);
  for (const step of stream.steps) {
    expect(step.agreement!.max_abs_error).toBeLessThanOrEqual(step.agreement!.tolerance);
    expect(step.agreement!.top5).toEqual(step.agreement!.reference_top5);
  }

  let separateMs = 0;
  for (let i = 0; i < SEPARATE_BOOTS; i++) {
    const single = await runBuild({ buildDir, inputFile: path.join(root, `input-${i}.npy`), reporter: quiet });
    expect(single.report.exit_code).toBe(0);
    separateMs += single.report.wall_ms.value;
  }
  const perBoot = separateMs / SEPARATE_BOOTS;
  const summary = `rpi3 under raspi3b, 1x3x16x16 CNN: ${STEPS} inputs through one boot ${(report.wall_ms.value / 1000).toFixed(1)} s wall; ` +
    `separate boots ${(perBoot / 1000).toFixed(2)} s each (mean of ${SEPARATE_BOOTS}), ${((perBoot * STEPS) / 1000).toFixed(0)} s for ${STEPS}`;
  console.log(summary);
  writeFileSync(path.join(root, 'summary.txt'), summary);
  expect(report.wall_ms.value).toBeLessThan(perBoot * STEPS);
});
