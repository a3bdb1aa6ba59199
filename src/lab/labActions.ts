/** The application side of `EdgespecActions`: jobs, downloads and main-area views. */
import type { JupyterFrontEnd } from '@jupyterlab/application';
import { MainAreaWidget, Notification } from '@jupyterlab/apputils';
import type { Widget } from '@lumino/widgets';
import type { EdgespecActions } from './actions';
import { BuildDtype, EdgespecApiError, EdgespecClient, Target } from './api';
import { JobTracker } from './jobTracker';
import { formatBytes } from '../common/report/format';
import { basename, describeBuild } from './model/paths';
import { parseFootprint, parseRunReport } from './model/validate';
import { FootprintView } from './views/footprintView';
import { RunView } from './views/runView';

export class LabActions implements EdgespecActions {
  private readonly opened = new Map<string, MainAreaWidget>();

  constructor(
    private readonly app: JupyterFrontEnd,
    readonly client: EdgespecClient,
    readonly jobs: JobTracker,
    private readonly showPanel: () => void
  ) {}

  async build(bundle: string, target?: Target, dtype?: BuildDtype): Promise<void> {
    try {
      await this.jobs.submitBuild(bundle, target, dtype);
      this.showPanel();
    } catch (error) {
      this.reportError(`Cannot start the build of ${bundle}`, error);
    }
  }

  async run(build: string, target?: Target): Promise<void> {
    try {
      await this.jobs.submitRun(build, target);
      this.showPanel();
    } catch (error) {
      this.reportError(`Cannot start a run of ${build}`, error);
    }
  }

  async download(build: string): Promise<void> {
    const id = Notification.emit(`Packing ${build}…`, 'in-progress', { autoClose: false });
    try {
      const archive = await this.client.archive(build);
      const url = await this.app.serviceManager.contents.getDownloadUrl(archive.path);
      const link = document.createElement('a');
      link.href = url + (url.includes('?') ? '&' : '?') + 'download=1';
      link.download = basename(archive.path);
      link.rel = 'noopener';
      document.body.appendChild(link);
      link.click();
      link.remove();
      Notification.update({
        id,
        message: `Downloading ${archive.path} (${formatBytes(archive.bytes)}, sha256 ${archive.sha256.slice(0, 12)}…)`,
        type: 'success',
        autoClose: 6000
      });
    } catch (error) {
      Notification.dismiss(id);
      this.reportError(`Cannot pack ${build}`, error);
    }
  }

  openBuilds(): void {
    this.showPanel();
  }

  openFootprint(build: string): void {
    void this.openView(`footprint:${build}`, `Footprint · ${describeBuild(build)}`, build, async () => {
      const footprint = parseFootprint(await this.client.footprint(build));
      return new FootprintView(footprint, { actions: this, build });
    });
  }

  openRun(build: string): void {
    void this.openView(`run:${build}`, `Run · ${describeBuild(build)}`, build, async () => {
      const report = parseRunReport(await this.client.runReport(build));
      return new RunView(report, { actions: this, build });
    });
  }

  reportError(what: string, error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    const hint = error instanceof EdgespecApiError && error.hint ? ` ${error.hint}` : '';
    Notification.error(`${what}: ${message}${hint}`, { autoClose: false });
  }

  private async openView(key: string, label: string, build: string, load: () => Promise<Widget>): Promise<void> {
    const existing = this.opened.get(key);
    if (existing && !existing.isDisposed) {
      // show fresh data: a rebuild or rerun replaces the report
      existing.dispose();
    }
    let content: Widget;
    try {
      content = await load();
    } catch (error) {
      this.reportError(`Cannot open ${label}`, error);
      return;
    }
    const widget = new MainAreaWidget({ content });
    widget.id = `edgespec-${key.replace(/[^A-Za-z0-9_-]/g, '-')}`;
    widget.title.label = label;
    widget.title.caption = `${label}\n${build}`;
    widget.title.closable = true;
    widget.addClass('jp-edgespec-main');
    this.opened.set(key, widget);
    this.app.shell.add(widget, 'main');
    this.app.shell.activateById(widget.id);
  }
}
