/**
 * End to end in a real JupyterLab and Debian's Chromium: open examples/walkthrough.ipynb,
 * run it, trace a cell with the Trace button, build from the trace view, open the
 * footprint chart, run the image in QEMU, read the agreement, download the archive and
 * check it. Screenshots of every step go to test-results/e2e/.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Browser, Download, Locator, Page } from 'playwright-core';
import { checkArchive } from './archive';
import { launchChromium, missingChromium } from './browser';
import { LabServer, missingPrerequisites, REPO, startJupyterLab } from './jupyterLab';

const RESULTS = path.join(REPO, 'test-results', 'e2e');
const NOTEBOOK = 'walkthrough.ipynb';
const MINUTE = 60 * 1000;

let scratch: string;
let lab: LabServer | undefined;
let browser: Browser | undefined;
let page: Page;
const pageErrors: string[] = [];
const consoleErrors: string[] = [];

async function shot(name: string, target: Page | Locator = page): Promise<void> {
  await target.screenshot({ path: path.join(RESULTS, `${name}.png`) });
}

/** The notebook's session is ready and its kernel idle (read from the app, exposed as in Galata). */
async function waitForKernelReady(): Promise<void> {
  await page.waitForFunction(
    () => {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      const panel = (window as any).jupyterapp?.shell?.currentWidget;
      const session = panel?.sessionContext;
      return Boolean(session?.isReady && session.session?.kernel?.status === 'idle' && panel.content?.widgets?.length);
    },
    undefined,
    { timeout: 2 * MINUTE, polling: 250 }
  );
}

/** Code cells' prompts read `[n]:` once they ran, `[*]:` while they run or wait. */
async function waitForNotebookToFinish(timeout: number): Promise<void> {
  await page.waitForFunction(
    () => {
      const failed = Array.from(document.querySelectorAll('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'))
        .some(o => /Traceback|Error:/.test(o.textContent ?? ''));
      const prompts = Array.from(document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell .jp-InputArea-prompt'));
      return failed || (prompts.length > 0 && prompts.every(p => /\[\d+\]/.test(p.textContent ?? '')));
    },
    undefined,
    { timeout, polling: 500 }
  );
}

/** Tracebacks in the notebook's outputs (warnings on stderr are fine). */
async function notebookErrors(): Promise<string[]> {
  const stderr = await page.locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]').allInnerTexts();
  return stderr.filter(text => /Traceback|Error:/.test(text));
}

function codeCell(index: number): Locator {
  return page.locator('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell').nth(index);
}

/** The newest job card of a kind in the builds panel. */
function newestJob(kind: 'build' | 'run'): Locator {
  return page.locator(`.jp-edgespec-panel .jp-edgespec-job[data-kind="${kind}"]`).first();
}

async function waitForJob(kind: 'build' | 'run', timeout: number): Promise<Locator> {
  const card = newestJob(kind);
  await card.waitFor({ state: 'visible', timeout: 30000 });
  await page.waitForFunction(
    k => {
      const node = document.querySelector(`.jp-edgespec-panel .jp-edgespec-job[data-kind="${k}"]`) as HTMLElement | null;
      return node !== null && ['done', 'failed', 'cancelled'].includes(node.dataset.status ?? '');
    },
    kind,
    { timeout, polling: 500 }
  );
  const status = await card.getAttribute('data-status');
  if (status !== 'done') throw new Error(`the ${kind} job ended ${status}: ${await card.innerText()}`);
  return card;
}

beforeAll(async () => {
  const missing = [...missingPrerequisites(), ...missingChromium()];
  if (missing.length) throw new Error(`cannot run the end-to-end test:\n  ${missing.join('\n  ')}`);
  fs.rmSync(RESULTS, { recursive: true, force: true });
  fs.mkdirSync(RESULTS, { recursive: true });
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'edgespec-e2e-'));
  const root = path.join(scratch, 'root');
  fs.cpSync(path.join(REPO, 'examples'), root, { recursive: true });
  lab = await startJupyterLab(root, scratch, path.join(RESULTS, 'jupyter.log'));
  browser = await launchChromium();
  const context = await browser.newContext({ viewport: { width: 1600, height: 1200 }, acceptDownloads: true });
  page = await context.newPage();
  page.on('pageerror', error => pageErrors.push(error.message));
  page.on('console', message => {
    if (message.type() === 'error') consoleErrors.push(message.text());
  });
}, 3 * MINUTE);

afterAll(async () => {
  // Kept for people to read: JupyterLab logs some errors of its own, so they do not fail the test.
  if (consoleErrors.length) fs.writeFileSync(path.join(RESULTS, 'console-errors.txt'), consoleErrors.join('\n\n'));
  await browser?.close();
  await lab?.stop();
  if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
});

test('the walkthrough, from opening the notebook to checking the downloaded archive', async () => {
  try {
    await walkthrough();
  } catch (error) {
    await shot('failure').catch(() => undefined);
    throw error;
  }
});

async function walkthrough(): Promise<void> {
  // 1. Open the notebook; the extension's builds panel is there.
  await page.goto(`${lab!.url}/lab/tree/${NOTEBOOK}?token=${lab!.token}`);
  await page.locator('.jp-NotebookPanel .jp-Cell').first().waitFor({ timeout: 2 * MINUTE });
  await waitForKernelReady();
  await page.locator('.jp-edgespec-panel').waitFor({ state: 'attached', timeout: MINUTE });
  await shot('01-notebook-open');

  // 2. Run all cells from the menu: trace, build, footprint, run in QEMU, archive.
  await page.locator('#jp-menu-panel').getByText('Run', { exact: true }).click();
  await page.getByRole('menuitem', { name: /^Run All Cells/ }).click();
  await waitForNotebookToFinish(10 * MINUTE);
  expect(await notebookErrors()).toEqual([]);
  const footprintOutput = page.locator('.jp-NotebookPanel .jp-edgespec-footprint').first();
  await footprintOutput.scrollIntoViewIfNeeded();
  await footprintOutput.locator('svg').first().waitFor();
  await shot('02-notebook-footprint-output', footprintOutput);
  const runOutput = page.locator('.jp-NotebookPanel .jp-edgespec-run').first();
  await runOutput.scrollIntoViewIfNeeded();
  await shot('03-notebook-run-output', runOutput);
  expect(await runOutput.innerText()).toMatch(/agree|within tolerance/i);

  // 3. Trace the model cell again with the Trace button of its toolbar: the op table appears.
  const traceCell = codeCell(2);
  const prompt = traceCell.locator('.jp-InputArea-prompt');
  const ranBefore = await prompt.innerText();
  await traceCell.locator('.jp-InputArea-editor').click();
  const traceButton = traceCell.locator('[data-command="edgespec:trace-cell"]');
  await traceButton.waitFor({ timeout: 30000 });
  await traceButton.click();
  // The cell ran again (a new execution count), and its trace view shows the op table.
  await page.waitForFunction(
    ([node, before]) => /\[\d+\]/.test(node.textContent ?? '') && node.textContent !== before,
    [await prompt.elementHandle(), ranBefore] as const,
    { timeout: 5 * MINUTE, polling: 250 }
  );
  const opTable = traceCell.locator('.jp-edgespec-trace table').filter({ hasText: 'aten.convolution.default' });
  await opTable.first().waitFor({ timeout: 5 * MINUTE });
  await traceCell.locator('.jp-edgespec-trace').scrollIntoViewIfNeeded();
  await shot('04-trace-op-table', traceCell);

  // 4. Build from the trace view; the builds panel follows the job to its end.
  await traceCell.locator('.jp-edgespec-trace .jp-edgespec-actions').getByRole('button', { name: 'Build', exact: true }).click();
  const buildCard = await waitForJob('build', 10 * MINUTE);
  await shot('05-builds-panel-build-done');

  // 5. The footprint chart of the build.
  await buildCard.getByRole('button', { name: 'Footprint' }).click();
  const footprintView = page.locator('.jp-edgespec-main .jp-edgespec-footprint');
  await footprintView.locator('svg path, svg rect').first().waitFor({ timeout: MINUTE });
  await shot('06-footprint-chart');

  // 6. Run in QEMU and read the agreement with PyTorch.
  await buildCard.getByRole('button', { name: 'Run in QEMU' }).click();
  const runCard = await waitForJob('run', 5 * MINUTE);
  await runCard.getByRole('button', { name: 'Result' }).click();
  const runView = page.locator('.jp-edgespec-main .jp-edgespec-run');
  await runView.waitFor({ timeout: MINUTE });
  expect(await runView.innerText()).toMatch(/agree|within tolerance/i);
  await shot('07-run-agreement');

  // 7. Download the archive through the browser and check it.
  const [download] = await Promise.all([
    page.waitForEvent('download', { timeout: 2 * MINUTE }) as Promise<Download>,
    runCard.getByRole('button', { name: 'Download' }).click()
  ]);
  const zip = path.join(RESULTS, download.suggestedFilename());
  await download.saveAs(zip);
  await shot('08-downloaded');
  const archive = checkArchive(zip, path.join(RESULTS, 'archive'));
  expect(archive.files).toContain('boot.sh');

  // 8. The standalone report opens from disk with no network.
  const report = await browser!.newPage({ viewport: { width: 1400, height: 1000 } });
  const remote: string[] = [];
  report.on('request', request => {
    if (!request.url().startsWith('file:')) remote.push(request.url());
  });
  await report.goto(`file://${path.join(archive.folder, 'footprint.html')}`);
  await report.locator('#chart rect').first().waitFor({ timeout: 30000 });
  await report.screenshot({ path: path.join(RESULTS, '09-offline-footprint-report.png'), fullPage: true });
  expect(remote).toEqual([]);
  await report.close();

  // 9. Build int8 from the trace view: a second build beside the float32 one, int8 in the
  // panel and in the footprint caption, and its run judged by top-1.
  const buildCards = page.locator('.jp-edgespec-panel .jp-edgespec-job[data-kind="build"]');
  const buildsBefore = await buildCards.count();
  await page.locator('.lm-TabBar-tab').filter({ hasText: 'walkthrough.ipynb' }).click();
  await traceCell.locator('.jp-edgespec-trace').scrollIntoViewIfNeeded();
  await traceCell.locator('.jp-edgespec-trace .jp-edgespec-actions').getByRole('button', { name: 'Build int8', exact: true }).click();
  await page.waitForFunction(
    before => document.querySelectorAll('.jp-edgespec-panel .jp-edgespec-job[data-kind="build"]').length > before,
    buildsBefore,
    { timeout: 30000, polling: 250 }
  );
  const int8Card = await waitForJob('build', 10 * MINUTE);
  expect(await int8Card.locator('.jp-edgespec-job-subtitle').innerText()).toBe('build for qemu-virt · int8');
  await shot('10-builds-panel-int8-build-done');
  await int8Card.getByRole('button', { name: 'Footprint' }).click();
  const int8Footprint = page.locator('.jp-edgespec-main .jp-edgespec-footprint').filter({ hasText: 'qemu-virt · int8' });
  await int8Footprint.locator('svg path, svg rect').first().waitFor({ timeout: MINUTE });
  const runCards = page.locator('.jp-edgespec-panel .jp-edgespec-job[data-kind="run"]');
  const runsBefore = await runCards.count();
  await int8Card.getByRole('button', { name: 'Run in QEMU' }).click();
  await page.waitForFunction(
    before => document.querySelectorAll('.jp-edgespec-panel .jp-edgespec-job[data-kind="run"]').length > before,
    runsBefore,
    { timeout: 30000, polling: 250 }
  );
  const int8Run = await waitForJob('run', 5 * MINUTE);
  expect(await int8Run.locator('.jp-edgespec-job-subtitle').innerText()).toBe('run on qemu-virt · int8');
  await int8Run.getByRole('button', { name: 'Result' }).click();
  const int8RunView = page.locator('.jp-edgespec-main:not(.lm-mod-hidden) .jp-edgespec-run');
  await int8RunView.waitFor({ timeout: MINUTE });
  expect(await int8RunView.innerText()).toMatch(/top-1 matches/);
  await shot('11-int8-run');

  expect(pageErrors).toEqual([]);
}
