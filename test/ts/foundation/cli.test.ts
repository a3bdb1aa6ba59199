import * as path from 'path';
import { CliEvent } from '../../../src/common/types';
import { BundleSummary } from '../../../src/toolchain/bundle/summarize';
import { ToolStatus } from '../../../src/toolchain/tools/tools';
import { buildToolchain, expectNoStackTrace, jsonEvents, runCli } from './cliProcess';
import { flipByte, removeScratch, scratchDir, writeTinyBundle } from './tinyBundle';

let root: string;
let good: string;
beforeAll(async () => {
  await buildToolchain();
  root = scratchDir('cli');
  good = writeTinyBundle(path.join(root, 'good'));
});
afterAll(() => removeScratch(root));

type ErrorEvent = Extract<CliEvent, { event: 'error' }>;
type ResultEvent = Extract<CliEvent, { event: 'result' }>;

describe('edgespec inspect', () => {
  it('prints the model, inputs, inventory, ops and parameter bytes', async () => {
    const run = await runCli(['inspect', good]);
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toContain('model       tiny_mlp (pytorch 2.14.1, test fixture, from tiny_mlp.py:make)');
    expect(run.stdout).toContain('inputs      x float32 [1, 4] NC');
    expect(run.stdout).toContain('parameters  15 values in 2 tensors, 60 bytes');
    expect(run.stdout).toMatch(/aten\.addmm\.default\s+1\s+linear/);
    expect(run.stdout).toMatch(/aten\.dropout\.default\s+1\s+\(removed: identity\)/);
    expect(run.stdout).toMatch(/weights\.safetensors sha256 ok/);
  });

  it('--json gives exactly one result event with the summary', async () => {
    const run = await runCli(['inspect', good, '--json']);
    expect(run.exitCode).toBe(0);
    const events = jsonEvents(run.stdout);
    expect(events).toHaveLength(1);
    const result = events[0] as ResultEvent;
    expect(result).toMatchObject({ event: 'result', command: 'inspect' });
    const data = result.data as BundleSummary;
    expect(data.name).toBe('tiny_mlp');
    expect(data.parameters.bytes).toBe(60);
    expect(data.edgespec_ops.map(o => o.op)).toEqual(['linear', 'relu']);
    expect(data.inputs).toEqual([{ name: 'x', shape: [1, 4], dtype: 'float32', layout: 'NC' }]);
  });

  it('a tampered bundle: exit 1, one error event naming the file, no stack trace', async () => {
    const dir = writeTinyBundle(path.join(root, 'tampered'));
    flipByte(path.join(dir, 'weights.safetensors'), 5);
    const run = await runCli(['inspect', dir, '--json']);
    expect(run.exitCode).toBe(1);
    const events = jsonEvents(run.stdout);
    expect(events).toHaveLength(1);
    const error = events[0] as ErrorEvent;
    expect(error.event).toBe('error');
    expect(error.code).toBe('bundle-checksum');
    expect(error.message).toContain('weights.safetensors has sha256');
    expect(error.hint).toMatch(/^capture the model again: edgespec capture/);
    expectNoStackTrace(run);
  });

  it('an unknown op, for a person: message and fix on stderr, nothing on stdout', async () => {
    const dir = writeTinyBundle(path.join(root, 'unknown-op'), { graph: g => (g.nodes[1].op = 'sort') });
    const run = await runCli(['inspect', dir]);
    expect(run.exitCode).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^edgespec: error: graph.json of 'tiny_mlp' uses 1 op outside the edgespec vocabulary:\n {2}- sort: 1 node/);
    expect(run.stderr).toMatch(/\n {2}fix: edgespec has no kernel for these/);
    expectNoStackTrace(run);
  });

  it('a directory that does not exist, and a missing argument', async () => {
    const missing = await runCli(['inspect', path.join(root, 'nope')]);
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr).toMatch(/bundle directory .*nope does not exist/);
    expectNoStackTrace(missing);
    const usage = await runCli(['inspect']);
    expect(usage.exitCode).toBe(2);
    expect(usage.stderr).toMatch(/missing required argument 'bundle'/);
  });
});

describe('edgespec doctor', () => {
  it('finds every tool on this machine', async () => {
    const run = await runCli(['doctor', '--json']);
    const events = jsonEvents(run.stdout);
    const result = events.find(e => e.event === 'result') as ResultEvent;
    const tools = (result.data as { tools: ToolStatus[] }).tools;
    const missing = tools.filter(t => !t.found).map(t => `${t.label}: ${t.detail}; ${t.install}`);
    expect(missing).toEqual([]);
    expect(run.exitCode).toBe(0);
    expect(tools.map(t => t.id)).toEqual(['python', 'torch', 'edgespec-python', 'aarch64-gcc', 'picolibc', 'qemu-system-aarch64', 'qemu-aarch64', 'node', 'linux-source', 'debian-arm64-kernel', 'dosfstools', 'mtools', 'efi-firmware', 'aarch64-objcopy']);
    const byId = Object.fromEntries(tools.map(t => [t.id, t]));
    expect(byId['aarch64-gcc'].version).toMatch(/^\d+\.\d+/);
    expect(byId.torch.version).toMatch(/^torch 2\.\d+/);
    expect(byId['qemu-system-aarch64'].path).toMatch(/qemu-system-aarch64$/);
  });

  it('prints a table for a person', async () => {
    const run = await runCli(['doctor']);
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toMatch(/^edgespec doctor: 14 of 14 found/);
    expect(run.stdout).toMatch(/ok\s+cross compiler aarch64-linux-gnu-gcc\s+\d+\.\d+/);
  });

  it('says what is missing and how to install it, and exits 1', async () => {
    // A PATH with node alone: no cross compiler, no QEMU, no python3.
    const run = await runCli(['doctor'], { PATH: path.dirname(process.execPath) === '/usr/bin' ? '/nonexistent' : path.dirname(process.execPath), EDGESPEC_PYTHON: '/nonexistent/python' });
    expect(run.exitCode).toBe(1);
    expect(run.stdout).toMatch(/MISSING\s+python\s+EDGESPEC_PYTHON=\/nonexistent\/python: not found or not executable/);
    expect(run.stdout).toMatch(/MISSING\s+cross compiler aarch64-linux-gnu-gcc\s+not on PATH\s+install with: apt-get install -y gcc-aarch64-linux-gnu/);
    expect(run.stdout).toContain('install with: apt-get install -y qemu-system-arm');
    expect(run.stdout).toContain('install with: apt-get install -y qemu-user');
    expect(run.stderr).toMatch(/^edgespec: error: missing \d+ required tools: python, PyTorch \+ torchvision, edgespec Python package, cross compiler/);
    expectNoStackTrace(run);
  });
});
