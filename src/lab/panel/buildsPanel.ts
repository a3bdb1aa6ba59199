/**
 * The "edgespec builds" side panel: every build and run job the server knows, with live
 * progress, status, log and cancel, and the actions that follow a finished job. The list is
 * the server's, so it survives a page reload.
 */
import { Widget } from '@lumino/widgets';
import type { EdgespecActions } from '../actions';
import { TARGETS } from '../api';
import type { Job, Target } from '../api';
import {
  elapsedText,
  isJobActive,
  jobModelName,
  jobSubtitle,
  jobTitle,
  logTail,
  parseBuildDtype,
  progressFraction,
  progressText,
  STATUS_LABELS
} from '../model/jobs';
import { button, clear, errorBox, h } from '../views/dom';

const LOG_LINES = 400;

export class BuildsPanel extends Widget {
  private readonly list = h('div', { className: 'jp-edgespec-job-list', attrs: { role: 'list' } });
  private readonly status = h('div', 'jp-edgespec-panel-status');
  private readonly cards = new Map<string, JobCard>();
  private clock = 0;

  constructor(private readonly actions: EdgespecActions) {
    super();
    this.id = 'edgespec-builds';
    this.addClass('jp-edgespec-panel');
    this.title.caption = 'edgespec builds';
    this.node.append(this.renderHeader(), this.renderForm(), this.status, this.list);
    actions.jobs.changed.connect(this.onJobsChanged, this);
    this.onJobsChanged();
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    window.clearInterval(this.clock);
    this.actions.jobs.changed.disconnect(this.onJobsChanged, this);
    super.dispose();
  }

  protected onAfterShow(): void {
    void this.actions.jobs.refresh();
  }

  protected onAfterAttach(): void {
    // elapsed times of running jobs tick between polls
    this.clock = window.setInterval(() => this.cards.forEach(card => card.tick()), 1000);
  }

  protected onBeforeDetach(): void {
    window.clearInterval(this.clock);
  }

  private renderHeader(): HTMLElement {
    return h(
      'div',
      'jp-edgespec-panel-header',
      h('h2', {}, 'edgespec builds'),
      button('Refresh', () => this.actions.jobs.refresh(), { title: 'Ask the server for the job list now' })
    );
  }

  private renderForm(): HTMLElement {
    const bundle = h('input', {
      className: 'jp-mod-styled jp-edgespec-bundle-input',
      attrs: { type: 'text', placeholder: 'bundle folder, e.g. edgespec-bundles/mobilenet_v2', 'aria-label': 'bundle folder' }
    });
    const target = h('select', { className: 'jp-mod-styled', attrs: { 'aria-label': 'target' } }, ...TARGETS.map(name => h('option', { attrs: { value: name } }, name)));
    // '' leaves the dtype to the CLI: float32, or int8 for a bundle with its own quantization
    const dtype = h(
      'select',
      { className: 'jp-mod-styled', attrs: { 'aria-label': 'dtype', title: 'int8: post-training static quantization, built into <target>-int8' } },
      h('option', { attrs: { value: '' } }, 'default dtype'),
      h('option', { attrs: { value: 'int8' } }, 'int8')
    );
    const message = h('div', 'jp-edgespec-form-message');
    const submit = async (): Promise<void> => {
      const path = bundle.value.trim();
      message.textContent = '';
      if (!path) {
        message.textContent = 'Enter the folder of a bundle (it holds graph.json), relative to the server root.';
        return;
      }
      await this.actions.build(path, target.value as Target, parseBuildDtype(dtype.value));
    };
    bundle.addEventListener('keydown', event => {
      if (event.key === 'Enter') {
        void submit();
      }
    });
    return h(
      'details',
      'jp-edgespec-new-build',
      h('summary', {}, 'Build a bundle by path'),
      h('div', 'jp-edgespec-form-row', bundle),
      h('div', 'jp-edgespec-form-row', target, dtype, button('Build', submit, { accent: true })),
      message
    );
  }

  private onJobsChanged(): void {
    const jobs = this.actions.jobs;
    clear(this.status);
    if (jobs.error) {
      this.status.append(errorBox(jobs.error.message, jobs.error.hint));
    } else if (!jobs.loaded) {
      this.status.append(h('div', 'jp-edgespec-note', 'Loading jobs…'));
    } else if (jobs.jobs.length === 0) {
      this.status.append(
        h('div', 'jp-edgespec-empty', 'No builds yet. Trace a cell (the Trace button on a code cell), then press Build in its output.')
      );
    }
    const seen = new Set<string>();
    jobs.jobs.forEach((job, index) => {
      seen.add(job.id);
      let card = this.cards.get(job.id);
      if (!card) {
        card = new JobCard(job, this.actions);
        this.cards.set(job.id, card);
      } else {
        card.update(job);
      }
      const current = this.list.children[index];
      if (current !== card.node) {
        this.list.insertBefore(card.node, current ?? null);
      }
    });
    for (const [id, card] of this.cards) {
      if (!seen.has(id)) {
        card.node.remove();
        this.cards.delete(id);
      }
    }
  }
}

/** One job, updated in place so open logs and scroll positions survive polling. */
class JobCard {
  readonly node = h('div', { className: 'jp-edgespec-job', attrs: { role: 'listitem' } });
  private readonly title = h('div', 'jp-edgespec-job-title');
  private readonly subtitle = h('div', 'jp-edgespec-job-subtitle');
  private readonly badge = h('span', 'jp-edgespec-badge');
  private readonly elapsed = h('span', 'jp-edgespec-job-elapsed');
  private readonly meter = h('div', { className: 'jp-edgespec-progress', attrs: { role: 'progressbar', 'aria-valuemin': '0', 'aria-valuemax': '100' } });
  private readonly meterFill = h('div', 'jp-edgespec-progress-fill');
  private readonly stage = h('div', 'jp-edgespec-job-stage');
  private readonly error = h('div', 'jp-edgespec-job-error');
  private readonly buttons = h('div', 'jp-edgespec-actions');
  private readonly log = h('pre', 'jp-edgespec-log');
  private readonly logSummary = h('summary', {}, 'Log');
  private readonly logDetails = h('details', 'jp-edgespec-job-log', this.logSummary, this.log);
  private job: Job;
  private renderedButtonsFor = '';

  constructor(job: Job, private readonly actions: EdgespecActions) {
    this.job = job;
    this.meter.append(this.meterFill);
    this.node.append(
      h('div', 'jp-edgespec-job-head', this.badge, this.title, this.elapsed),
      this.subtitle,
      this.meter,
      this.stage,
      this.error,
      this.buttons,
      this.logDetails
    );
    this.update(job);
  }

  tick(): void {
    if (isJobActive(this.job)) {
      this.elapsed.textContent = elapsedText(this.job, Date.now());
    }
  }

  update(job: Job): void {
    this.job = job;
    this.node.dataset.status = job.status;
    this.node.dataset.kind = job.kind;
    this.title.textContent = jobModelName(job);
    this.node.setAttribute('aria-label', `${jobTitle(job)}: ${job.status}`);
    this.subtitle.textContent = jobSubtitle(job);
    this.subtitle.title = this.title.title = [jobTitle(job), job.bundle && `bundle: ${job.bundle}`, job.build && `build: ${job.build}`, `created ${job.created}`]
      .filter(Boolean)
      .join('\n');
    this.badge.textContent = STATUS_LABELS[job.status];
    this.badge.className = `jp-edgespec-badge jp-mod-${job.status}`;
    this.elapsed.textContent = elapsedText(job, Date.now());
    const fraction = progressFraction(job);
    const active = isJobActive(job);
    this.meter.hidden = !active && job.status !== 'done';
    this.meter.classList.toggle('jp-mod-indeterminate', fraction === null && active);
    this.meterFill.style.width = fraction === null ? '' : `${(fraction * 100).toFixed(1)}%`;
    if (fraction !== null) {
      this.meter.setAttribute('aria-valuenow', (fraction * 100).toFixed(0));
    }
    this.stage.textContent = active ? progressText(job) : '';
    clear(this.error);
    if (job.error && job.status === 'failed') {
      this.error.append(errorBox(job.error.message, job.error.hint));
    } else if (job.error && job.status === 'cancelled') {
      this.error.append(h('div', 'jp-edgespec-note', job.error.message));
    }
    this.renderButtons();
    this.renderLog();
  }

  private renderButtons(): void {
    const job = this.job;
    const key = `${job.status}|${job.build}`;
    if (key === this.renderedButtonsFor) {
      return;
    }
    this.renderedButtonsFor = key;
    clear(this.buttons);
    const actions = this.actions;
    if (isJobActive(job)) {
      this.buttons.append(button('Cancel', () => this.cancel(), { title: 'Stop this job' }));
      return;
    }
    const build = job.build;
    if (job.status !== 'done' || !build) {
      if (job.kind === 'build' && job.bundle && job.status !== 'done') {
        const bundle = job.bundle;
        this.buttons.append(button('Build again', () => actions.build(bundle, job.target, job.dtype ?? undefined)));
      }
      return;
    }
    if (job.kind === 'build') {
      this.buttons.append(
        button('Run in QEMU', () => actions.run(build), { accent: true }),
        button('Footprint', () => actions.openFootprint(build))
      );
    } else if (job.kind === 'diff') {
      this.buttons.append(button('Layers', () => actions.openRun(build), { accent: true, title: 'The run view with its Layers section' }));
    } else {
      this.buttons.append(
        button('Result', () => actions.openRun(build), { accent: true }),
        button('Run again', () => actions.run(build))
      );
    }
    this.buttons.append(button('Download', () => actions.download(build), { title: 'Image, boot script, footprint, report, console log and checksums in one .zip' }));
  }

  private async cancel(): Promise<void> {
    try {
      await this.actions.jobs.cancel(this.job.id);
    } catch (error) {
      this.actions.reportError('Cannot cancel the job', error);
    }
  }

  private renderLog(): void {
    const { text, omitted } = logTail(this.job.log, LOG_LINES);
    this.logDetails.hidden = this.job.log.length === 0;
    this.logSummary.textContent = `Log (${this.job.log.length} ${this.job.log.length === 1 ? 'line' : 'lines'})`;
    if (this.log.textContent === (omitted ? `… ${omitted} earlier lines\n` : '') + text) {
      return;
    }
    const atBottom = this.log.scrollTop + this.log.clientHeight >= this.log.scrollHeight - 4;
    this.log.textContent = (omitted ? `… ${omitted} earlier lines\n` : '') + text;
    if (atBottom) {
      this.log.scrollTop = this.log.scrollHeight;
    }
  }
}
