/**
 * "Trace": run the active code cell under `%%edgespec trace` without changing its text.
 * The magic is prepended to what is sent to the kernel only; the outputs land in the
 * cell's output area like a normal run, so they are saved with the notebook.
 */
import { CodeCell } from '@jupyterlab/cells';
import type { NotebookPanel } from '@jupyterlab/notebook';
import { OutputArea } from '@jupyterlab/outputarea';
import type { KernelMessage } from '@jupyterlab/services';

export const LOAD_EXTENSION = '%load_ext edgespec';
export const TRACE_MAGIC = '%%edgespec trace';

export class TraceCellError extends Error {
  constructor(
    message: string,
    readonly hint: string
  ) {
    super(message);
    this.name = 'TraceCellError';
  }
}

/** The code sent to the kernel: the cell under the magic (kept if already there). */
export function tracedSource(source: string): string {
  return /^\s*%%edgespec\b/.test(source) ? source : `${TRACE_MAGIC}\n${source}`;
}

export async function traceActiveCell(panel: NotebookPanel): Promise<void> {
  const cell = panel.content.activeCell;
  if (!(cell instanceof CodeCell)) {
    throw new TraceCellError('The active cell is not a code cell.', 'Select the code cell that calls your model.');
  }
  const sessionContext = panel.sessionContext;
  await sessionContext.ready;
  const kernel = sessionContext.session?.kernel;
  if (!kernel) {
    throw new TraceCellError('The notebook has no running kernel.', 'Start a Python kernel (Kernel › Change Kernel…).');
  }
  const load = await kernel.requestExecute({ code: LOAD_EXTENSION, silent: true, store_history: false }).done;
  if (load.content.status !== 'ok') {
    const content = load.content as KernelMessage.IReplyErrorContent;
    throw new TraceCellError(
      `The kernel cannot load edgespec: ${content.ename ?? 'error'}: ${content.evalue ?? ''}`.trim(),
      'Install it into the kernel\'s environment: `pip install edgespec` (or `pip install -e kernel-bridge` from the repository), then restart the kernel.'
    );
  }
  const source = cell.model.sharedModel.getSource();
  cell.outputHidden = false;
  cell.setPrompt('*');
  try {
    const reply = await OutputArea.execute(tracedSource(source), cell.outputArea, sessionContext, {
      trusted: true
    });
    cell.model.executionCount = reply?.content.execution_count ?? null;
  } catch (error) {
    cell.setPrompt('');
    throw error;
  }
  cell.model.trusted = true;
}
