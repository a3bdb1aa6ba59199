/**
 * The run view's "Find divergent layer": starts a diff job on the server (`edgespec diff
 * BUILD`), shows its progress while it runs, then the Layers section, or the job's error
 * with its hint. A report an earlier diff wrote is shown when the view opens.
 */
import type { EdgespecActions } from '../actions';
import { EdgespecApiError, Job } from '../api';
import { isJobActive, progressFraction, progressText } from '../model/jobs';
import { parseDivergenceReport } from '../model/validate';
import { button, clear, errorBox, h } from './dom';
import { LayersSection } from './layersSection';

export class LayersPanel {
  readonly node: HTMLElement;
  readonly button: HTMLButtonElement;
  private readonly status = h('div', { className: 'jp-edgespec-diff-status', attrs: { 'aria-live': 'polite' } });
  private readonly content = h('div', 'jp-edgespec-diff-content');
  private jobId: string | null = null;
  private settle: (() => void) | null = null;
  private disposed = false;

  constructor(
    private readonly actions: EdgespecActions,
    private readonly build: string
  ) {
    this.button = button('Find divergent layer', () => this.start(), {
      accent: true,
      title: `Build a debug image of ${build} that dumps every layer, run it on the reference input and compare each layer with the framework (edgespec diff)`
    });
    this.node = h('div', 'jp-edgespec-diff', this.status, this.content);
    actions.jobs.changed.connect(this.onJobsChanged, this);
    actions.jobs.finished.connect(this.onJobFinished, this);
    const running = actions.jobs.jobs.find(job => job.kind === 'diff' && job.build === build && isJobActive(job));
    if (running) {
      void this.follow(running.id);
    } else {
      void this.loadReport(false);
    }
  }

  dispose(): void {
    this.disposed = true;
    this.actions.jobs.changed.disconnect(this.onJobsChanged, this);
    this.actions.jobs.finished.disconnect(this.onJobFinished, this);
    this.settle?.();
  }

  /** Submit the job; the button stays disabled until it ends. */
  private async start(): Promise<void> {
    clear(this.status);
    this.status.append(h('div', 'jp-edgespec-note', 'Starting edgespec diff…'));
    let id: string;
    try {
      id = await this.actions.jobs.submitDiff(this.build);
    } catch (error) {
      this.showError(error);
      return;
    }
    await this.follow(id);
  }

  private follow(id: string): Promise<void> {
    this.jobId = id;
    this.button.disabled = true;
    const settled = new Promise<void>(resolve => {
      this.settle = () => {
        this.settle = null;
        this.button.disabled = false;
        resolve();
      };
    });
    this.renderProgress(null);
    this.onJobsChanged();
    return settled;
  }

  /** A job that ended before the tracker saw it run never fires `finished`: the list says so too. */
  private onJobsChanged(): void {
    const job = this.actions.jobs.jobs.find(candidate => candidate.id === this.jobId);
    if (!job) {
      return;
    }
    if (isJobActive(job)) {
      this.renderProgress(job);
    } else {
      this.onJobFinished(null, job);
    }
  }

  private onJobFinished(_: unknown, job: Job): void {
    if (job.id !== this.jobId) {
      return;
    }
    this.jobId = null;
    clear(this.status);
    if (job.status === 'done') {
      void this.loadReport(true).finally(() => this.settle?.());
      return;
    }
    if (job.status === 'failed') {
      this.status.append(errorBox(job.error?.message ?? 'edgespec diff failed.', job.error?.hint ?? 'Read the job\'s log in the edgespec builds panel.'));
    } else {
      this.status.append(h('div', 'jp-edgespec-note', job.error?.message ?? 'The diff was cancelled.'));
    }
    this.settle?.();
  }

  private renderProgress(job: Job | null): void {
    clear(this.status);
    const fraction = job ? progressFraction(job) : null;
    const meter = h('progress', { className: 'jp-edgespec-diff-progress', attrs: { max: '1', 'aria-label': 'edgespec diff progress' } });
    if (fraction !== null) {
      meter.value = fraction;
    }
    this.status.append(
      h(
        'div',
        'jp-edgespec-diff-running',
        h('span', 'jp-edgespec-spinner'),
        h('span', {}, 'Finding the divergent layer: ', job ? progressText(job) || job.status : 'queued'),
        meter
      )
    );
  }

  /** Show divergence.json; a missing one is fine unless a finished job should have written it. */
  private async loadReport(expected: boolean): Promise<void> {
    try {
      const report = parseDivergenceReport(await this.actions.client.divergence(this.build));
      if (this.disposed) {
        return;
      }
      clear(this.content);
      this.content.append(new LayersSection(report).node);
    } catch (error) {
      if (!expected && error instanceof EdgespecApiError && error.status === 404) {
        return;
      }
      this.showError(error);
    }
  }

  private showError(error: unknown): void {
    clear(this.status);
    const message = error instanceof Error ? error.message : String(error);
    const hint = error instanceof EdgespecApiError ? error.hint : undefined;
    this.status.append(errorBox(message, hint));
  }
}
