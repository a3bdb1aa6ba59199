/**
 * End to end in a real JupyterLab and Debian's Chromium (issue 12): MobileNetV2 captured
 * with its framework intermediates, built with --profile for qemu-virt (float32 and int8)
 * and run. The run view's Profile section shows the per-layer instructions, which sum to
 * within 1 % of the whole-invoke count; its "Find divergent layer" runs edgespec diff on the
 * server, and the Layers section shows every layer within tolerance. Screenshots of each
 * step go to test-results/e2e-layers/.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { Browser, Locator, Page } from 'playwright-core';
import { launchChromium, missingChromium } from './browser';
import { LabServer, missingPrerequisites, PYTHON, REPO, startJupyterLab } from './jupyterLab';

const RESULTS = path.join(REPO, 'test-results', 'e2e-layers');
const CLI = path.join(REPO, 'bin', 'edgespec');
const BUNDLE = 'edgespec-bundles/mobilenet_v2';
const MINUTE = 60 * 1000;

let scratch: string;
let root: string;
let lab: LabServer | undefined;
let browser: Browser | undefined;
let page: Page;
const pageErrors: string[] = [];

async function shot(name: string, target: Page | Locator = page): Promise<void> {
  await target.screenshot({ path: path.join(RESULTS, `${name}.png`) });
}

function run(command: string, args: string[], timeout: number, env: NodeJS.ProcessEnv = process.env): string {
  try {
    return execFileSync(command, args, { cwd: root, env, encoding: 'utf8', timeout, stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 });
  } catch (error) {
    const failed = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${path.basename(command)} ${args.join(' ')} failed: ${failed.message}\n${failed.stdout ?? ''}\n${failed.stderr ?? ''}`);
  }
}

/** A --profile build of the bundle, run once on its reference input; returns the build directory (root-relative). */
function profiledBuild(dtype: 'float32' | 'int8'): string {
  const build = `${BUNDLE}/build/qemu-virt${dtype === 'int8' ? '-int8' : ''}`;
  run(CLI, ['build', BUNDLE, '--profile', '--dtype', dtype, '--out', build], 10 * MINUTE);
  run(CLI, ['run', build], 5 * MINUTE);
  return build;
}

beforeAll(async () => {
  const missing = [...missingPrerequisites(), ...missingChromium()];
  if (missing.length) throw new Error(`cannot run the end-to-end test:\n  ${missing.join('\n  ')}`);
  fs.rmSync(RESULTS, { recursive: true, force: true });
  fs.mkdirSync(RESULTS, { recursive: true });
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'edgespec-e2e-layers-'));
  root = path.join(scratch, 'root');
  fs.mkdirSync(root);
  run(PYTHON, ['-m', 'edgespec', 'capture', 'torchvision:mobilenet_v2', '--seed', '0', '--out', BUNDLE], 10 * MINUTE);
  expect(fs.existsSync(path.join(root, BUNDLE, 'intermediates.safetensors'))).toBe(true);
  lab = await startJupyterLab(root, scratch, path.join(RESULTS, 'jupyter.log'));
  browser = await launchChromium();
  const context = await browser.newContext({ viewport: { width: 1600, height: 1200 } });
  page = await context.newPage();
  page.on('pageerror', error => pageErrors.push(error.message));
  await page.goto(`${lab.url}/lab?token=${lab.token}`);
  await page.waitForFunction(() => Boolean((window as any).jupyterapp?.commands?.hasCommand('edgespec:open-run')), undefined, { timeout: 2 * MINUTE });
}, 15 * MINUTE);

afterAll(async () => {
  await browser?.close();
  await lab?.stop();
  if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
});

/** The "diff done" notification closes itself after a few seconds; screenshots wait for it. */
async function toastsGone(): Promise<void> {
  await page.waitForFunction(() => document.querySelectorAll('.Toastify__toast').length === 0, undefined, { timeout: 20000, polling: 250 }).catch(() => undefined);
}

async function openRunView(build: string): Promise<Locator> {
  await page.evaluate(b => (window as any).jupyterapp.commands.execute('edgespec:open-run', { build: b }), build);
  const view = page.locator('.jp-edgespec-main:not(.lm-mod-hidden) .jp-edgespec-run');
  await view.waitFor({ timeout: MINUTE });
  return view;
}

async function checkProfile(view: Locator, build: string, name: string): Promise<void> {
  const profile = view.locator('.jp-edgespec-profile');
  await profile.locator('svg.jp-edgespec-bars rect').first().waitFor({ timeout: MINUTE });
  const sum = profile.locator('.jp-edgespec-profile-sum');
  const steps = Number(await sum.getAttribute('data-steps'));
  const whole = Number(await sum.getAttribute('data-whole'));
  const report = JSON.parse(fs.readFileSync(path.join(root, build, 'run.json'), 'utf8'));
  // what the section shows is run.json's: the steps' counts and the whole invoke's
  expect(steps).toBe(report.profile.steps.reduce((total: number, step: { count: number }) => total + step.count, 0));
  expect(whole).toBe(report.guest_instructions.value);
  expect(Math.abs(steps - whole) / whole).toBeLessThanOrEqual(0.01);
  expect(await sum.innerText()).toMatch(/steps \/ whole\s+(0\.99\d\d|1\.00\d\d) · /);
  // one bar per op type, and the first 25 layers (largest first) until "Show all"
  const ops = new Set(report.profile.steps.map((step: { op: string }) => step.op));
  const charts = profile.locator('svg.jp-edgespec-bars');
  expect(await charts.nth(0).locator('rect').count()).toBe(ops.size);
  expect(await charts.nth(1).locator('rect').count()).toBe(Math.min(25, report.profile.steps.length));
  await profile.scrollIntoViewIfNeeded();
  await shot(`${name}-profile`, profile);
  await profile.getByRole('button', { name: /^Show all \d+ layers$/ }).click();
  expect(await profile.locator('svg.jp-edgespec-bars').nth(1).locator('rect').count()).toBe(report.profile.steps.length);
}

async function findDivergentLayer(view: Locator, build: string, name: string): Promise<void> {
  const start = view.getByRole('button', { name: 'Find divergent layer' });
  await start.click();
  await view.locator('.jp-edgespec-diff-running').waitFor({ timeout: MINUTE });
  expect(await start.isDisabled()).toBe(true);
  await shot(`${name}-diff-running`);
  const layers = view.locator('.jp-edgespec-layers');
  await page.waitForFunction(
    () => {
      const running = document.querySelector('.jp-edgespec-main:not(.lm-mod-hidden) .jp-edgespec-diff-running');
      const error = document.querySelector('.jp-edgespec-main:not(.lm-mod-hidden) .jp-edgespec-diff-status .jp-edgespec-error');
      return !running && (error || document.querySelector('.jp-edgespec-main:not(.lm-mod-hidden) .jp-edgespec-layers'));
    },
    undefined,
    { timeout: 20 * MINUTE, polling: 1000 }
  );
  const error = view.locator('.jp-edgespec-diff-status .jp-edgespec-error');
  if (await error.count()) {
    await shot(`${name}-diff-failed`);
    throw new Error(`the diff failed: ${await error.innerText()}`);
  }
  const report = JSON.parse(fs.readFileSync(path.join(root, build, 'divergence.json'), 'utf8'));
  expect(report.status).toBe('agrees');
  expect(await layers.getAttribute('data-status')).toBe('agrees');
  const rows = layers.locator('.jp-edgespec-layer-table tbody tr');
  expect(await rows.count()).toBe(report.layers.length);
  const within = await rows.evaluateAll(nodes => nodes.map(node => (node as HTMLElement).dataset.within));
  const compared = report.layers.filter((layer: { compared: boolean }) => layer.compared).length;
  // every compared layer within its tolerance, and most layers compared
  expect(within.filter(value => value === 'true').length).toBe(compared);
  expect(within.filter(value => value === 'false')).toEqual([]);
  expect(compared).toBeGreaterThanOrEqual(Math.ceil(0.9 * report.layers.length));
  expect(await layers.locator('.jp-edgespec-divergence-plot circle.jp-edgespec-point').count()).toBe(compared);
  expect(await layers.locator('.jp-edgespec-banner').innerText()).toMatch(/Every compared layer is within its tolerance/);
  // int8: the table shows each layer's error in quantization steps
  const headers = await layers.locator('.jp-edgespec-layer-table thead th').allInnerTexts();
  expect(headers.includes('quant steps')).toBe(report.dtype === 'int8');
  await toastsGone();
  await layers.scrollIntoViewIfNeeded();
  await shot(`${name}-layers`, layers);
  // a clicked row shows its layer: op, module, attributes and the values side by side
  const pick = report.layers.findIndex((layer: { op: string; compared: boolean }) => layer.op === 'conv2d' && layer.compared);
  await rows.nth(pick).click();
  const detail = layers.locator('.jp-edgespec-layer-detail');
  expect(await detail.locator('h5').first().innerText()).toContain(`#${report.layers[pick].index} conv2d`);
  expect(await detail.innerText()).toContain(report.layers[pick].module);
  if (report.layers[pick].values?.length) {
    expect(await detail.locator('table').last().locator('tbody tr').count()).toBe(report.layers[pick].values.length);
  }
  await shot(`${name}-layer-detail`, layers);
}

test.each([['float32'], ['int8']] as const)('MobileNetV2 %s: the profile sums to the whole invoke, and every layer agrees', async dtype => {
  const name = `mobilenet_v2-${dtype}`;
  try {
    const build = profiledBuild(dtype);
    const view = await openRunView(build);
    await shot(`${name}-run-view`);
    await checkProfile(view, build, name);
    await findDivergentLayer(view, build, name);
    expect(pageErrors).toEqual([]);
  } catch (error) {
    await shot(`${name}-failure`).catch(() => undefined);
    throw error;
  }
});

test('a planted fault: the Layers section of a diff made in a terminal marks the layer that diverges first', async () => {
  const name = 'mobilenet_v2-planted-fault';
  const faulty = 'features.3.conv.1.0';
  // the test-only switch of edgespec build: this layer's bias is zeroed in the image (and in its debug twin)
  const env = { ...process.env, EDGESPEC_TEST_PLANT_FAULT: `zero-bias:${faulty}` };
  const build = `${BUNDLE}/build/qemu-virt-fault`;
  try {
    run(CLI, ['build', BUNDLE, '--out', build], 10 * MINUTE, env);
    run(CLI, ['run', build], 5 * MINUTE);
    run(CLI, ['diff', build], 10 * MINUTE, env);
    const report = JSON.parse(fs.readFileSync(path.join(root, build, 'divergence.json'), 'utf8'));
    expect(report.status).toBe('diverges');
    const view = await openRunView(build);
    const layers = view.locator('.jp-edgespec-layers');
    await layers.waitFor({ timeout: MINUTE });
    expect(await layers.getAttribute('data-status')).toBe('diverges');
    const first = layers.locator('.jp-edgespec-layer-table tbody tr.jp-edgespec-row-first');
    expect(await first.count()).toBe(1);
    expect(await first.innerText()).toContain(faulty);
    expect(await first.getAttribute('data-position')).toBe(String(report.first_divergent));
    expect(await layers.locator('.jp-edgespec-banner').innerText()).toContain(`diverges first: conv2d in ${faulty}`);
    expect(await layers.locator('.jp-edgespec-divergence-plot .jp-edgespec-first-marker').count()).toBe(1);
    // the first divergent layer is selected when the section opens
    expect(await layers.locator('.jp-edgespec-layer-detail h5').first().innerText()).toContain(faulty);
    await toastsGone();
    await layers.scrollIntoViewIfNeeded();
    await shot(`${name}-layers`, layers);
    expect(pageErrors).toEqual([]);
  } catch (error) {
    await shot(`${name}-failure`).catch(() => undefined);
    throw error;
  }
});

test('a streamed run: the Many inputs section shows each input against the bar and a histogram of errors', async () => {
  const name = 'mobilenet_v2-stream';
  const build = `${BUNDLE}/build/host-stream`;
  const steps = 6;
  try {
    run(CLI, ['build', BUNDLE, '--target', 'host', '--out', build], 10 * MINUTE);
    // the reference input six times, and six times the framework's output for it
    const script = [
      'import sys, numpy as np',
      'from safetensors.numpy import load_file',
      'r = load_file(sys.argv[1] + "/reference.safetensors")',
      'n = int(sys.argv[2])',
      'np.save("stream-inputs.npy", np.stack([r["input.0"]] * n))',
      'np.save("stream-expected.npy", np.stack([r["output.0"]] * n))'
    ].join('\n');
    run(PYTHON, ['-c', script, BUNDLE, String(steps)], MINUTE);
    run(CLI, ['run', build, '--inputs', 'stream-inputs.npy', '--expected', 'stream-expected.npy'], 5 * MINUTE);
    const report = JSON.parse(fs.readFileSync(path.join(root, build, 'run.json'), 'utf8'));
    expect([report.stream.inputs, report.stream.answered, report.stream.agreeing]).toEqual([steps, steps, steps]);
    const view = await openRunView(build);
    const section = view.locator('.jp-edgespec-stream');
    await section.waitFor({ timeout: MINUTE });
    expect(await section.getAttribute('data-verdict')).toBe('ok');
    expect(await section.locator('h4').innerText()).toBe(`Many inputs: ${steps} through one boot`);
    expect(await section.locator('.jp-edgespec-stream-inputs tbody tr').count()).toBe(steps);
    // every band of the histogram is drawn; the inputs all fall within the bar
    const bars = section.locator('svg.jp-edgespec-bars g.jp-edgespec-bar-row');
    expect(await bars.count()).toBe(6);
    expect(await section.innerText()).toContain(`${steps} of ${steps} compared (with stream-expected.npy); the worst, input `);
    await section.scrollIntoViewIfNeeded();
    await shot(`${name}-section`, section);
    expect(pageErrors).toEqual([]);
  } catch (error) {
    await shot(`${name}-failure`).catch(() => undefined);
    throw error;
  }
});
