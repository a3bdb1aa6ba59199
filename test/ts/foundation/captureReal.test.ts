import execa from 'execa';
import { existsSync, writeFileSync } from 'fs';
import * as path from 'path';
import { CliEvent } from '../../../src/common/types';
import { BundleSummary } from '../../../src/toolchain/bundle/summarize';
import { locatePython, pythonEnv } from '../../../src/toolchain/tools/locate';
import { buildToolchain, expectNoStackTrace, runCli } from './cliProcess';
import { removeScratch, scratchDir } from './tinyBundle';

/**
 * `edgespec capture` runs the real Python capture (kernel-bridge) on a real torch model,
 * and `edgespec inspect` validates what it wrote. Nothing here is skipped: without Python,
 * torch or the edgespec package the test fails and says what to install.
 */

const MODEL_FILE = `
import torch
from torch import nn

class TinyCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(inplace=True),
            nn.MaxPool2d(2), nn.Conv2d(8, 16, 3, stride=2, padding=1), nn.ReLU())
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(16, 10)

    def forward(self, x):
        return self.classifier(torch.flatten(self.pool(self.features(x)), 1))

def make():
    return TinyCNN()

class Sorts(nn.Module):
    def forward(self, x):
        return torch.sort(x, dim=1).values

def make_sorting():
    return Sorts()

def make_crashing():
    import ctypes
    ctypes.string_at(0)  # reads address 0: the process dies of SIGSEGV, as a crashing native library makes it
`;

// conv 3->8 3x3 + bias, batch norm 8 (weight, bias, mean, var), conv 8->16 3x3 + bias, linear 16->10 + bias
const PARAMETER_VALUES = 8 * 3 * 9 + 8 + 4 * 8 + 16 * 8 * 9 + 16 + 16 * 10 + 10;

let root: string;
let modelFile: string;
beforeAll(async () => {
  const python = locatePython();
  if (!python.path) throw new Error(`no Python (${python.how}): create the venv as the README says, or set EDGESPEC_PYTHON`);
  const probe = await execa(python.path, ['-c', 'import edgespec, torch'], { reject: false, env: pythonEnv(), extendEnv: false });
  if (probe.exitCode !== 0) {
    throw new Error(`${python.path} cannot import edgespec and torch (${probe.stderr.trim().split('\n').pop()}): install them with\n  ${python.path} -m pip install -e kernel-bridge torch==2.14.1 torchvision==0.29.1`);
  }
  const help = await execa(python.path, ['-m', 'edgespec', 'capture', '--help'], { reject: false, env: pythonEnv(), extendEnv: false });
  if (help.exitCode !== 0) {
    throw new Error(`${python.path} -m edgespec capture --help fails (${help.stderr.trim().split('\n').pop()}): the Python command line of kernel-bridge is missing or broken`);
  }
  await buildToolchain();
  root = scratchDir('capture');
  modelFile = path.join(root, 'tiny_cnn.py');
  writeFileSync(modelFile, MODEL_FILE);
});
afterAll(() => removeScratch(root));

describe('edgespec capture (the real Python capture) then inspect', () => {
  it('captures a small CNN from module.py:factory into a bundle that inspect validates', async () => {
    const out = path.join(root, 'tiny_cnn');
    const capture = await runCli(['capture', `${modelFile}:make`, '--input-shape', '1x3x16x16', '--seed', '0', '--out', out]);
    expect({ exitCode: capture.exitCode, stderr: capture.stderr }).toEqual({ exitCode: 0, stderr: expect.any(String) });
    expectNoStackTrace(capture);

    const inspect = await runCli(['inspect', out, '--json']);
    expect(inspect.stderr).toBe('');
    expect(inspect.exitCode).toBe(0);
    const events = inspect.stdout.trim().split('\n').map(line => JSON.parse(line) as CliEvent);
    const summary = (events.find(e => e.event === 'result') as { data: BundleSummary }).data;
    expect(summary.source.framework).toBe('pytorch');
    expect(summary.inputs[0].shape).toEqual([1, 3, 16, 16]);
    expect(summary.outputs[0].shape).toEqual([1, 10]);
    const ops = Object.fromEntries(summary.edgespec_ops.map(o => [o.op, o.count]));
    expect(ops.conv2d).toBe(2);
    expect(ops.linear).toBe(1);
    expect(ops.max_pool2d).toBe(1);
    const convolution = summary.op_inventory.find(r => r.framework_op === 'aten.convolution.default');
    expect(convolution).toMatchObject({ count: 2, edgespec_ops: ['conv2d'] });
    // Parameters keep their state_dict names; batch norm's counter is not a weight the graph reads.
    expect(summary.parameters.elements).toBeGreaterThanOrEqual(PARAMETER_VALUES);
    expect(summary.parameters.elements).toBeLessThanOrEqual(PARAMETER_VALUES + 1);
  });

  it('passes the Python exit code and message through for a model with an op outside the vocabulary', async () => {
    const out = path.join(root, 'sorting');
    const run = await runCli(['capture', `${modelFile}:make_sorting`, '--input-shape', '2x5', '--out', out]);
    expect(run.exitCode).not.toBe(0);
    expect(`${run.stdout}\n${run.stderr}`).toMatch(/sort/);
    expect(existsSync(out)).toBe(false);
    expectNoStackTrace(run);
  });

  it('says so, and publishes nothing, when the capture process dies of a signal', async () => {
    const out = path.join(root, 'crashing');
    const run = await runCli(['capture', `${modelFile}:make_crashing`, '--input-shape', '2x5', '--out', out, '--json']);
    expect(run.exitCode).toBe(1);
    const error = run.stdout.trim().split('\n').filter(line => line.startsWith('{')).map(line => JSON.parse(line) as CliEvent)
      .find(e => e.event === 'error') as Extract<CliEvent, { event: 'error' }>;
    expect(error).toMatchObject({ code: 'capture-crashed' });
    expect(error.message).toContain('SIGSEGV');
    expect(existsSync(out)).toBe(false);
    expectNoStackTrace(run);
  });

  it('passes usage errors through', async () => {
    const run = await runCli(['capture', '--no-such-option']);
    expect(run.exitCode).toBe(2);
    expect(run.stderr.trim()).not.toBe('');
    expectNoStackTrace(run);
  });
});
