/**
 * The trace view: what `%%edgespec trace` captured. Unsupported ops come first, in a banner;
 * then each model with its shapes, parameter bytes and op table, whose kernel column fills
 * in once a build of the bundle exists.
 */
import { Widget } from '@lumino/widgets';
import type { Footprint } from '../../common/types';
import type { EdgespecActions } from '../actions';
import { TARGETS } from '../api';
import type { BuildSummary, Job, Target } from '../api';
import { formatBytes, formatInteger, formatShape } from '../../common/report/format';
import { isBuildOf, resolveOutputPath } from '../model/paths';
import { buildBlocker, modelTotals, opRows, TraceModel, TraceReport, unsupportedOps } from '../model/traceTable';
import { button, clear, dataTable, errorBox, h, keyValueTable } from './dom';

export interface TraceViewOptions {
  actions: EdgespecActions | null;
  /** Path of the notebook the output belongs to: relative bundle paths are relative to it. */
  notebookPath: string | null;
}


export class TraceView extends Widget {
  private readonly sections: ModelSection[] = [];

  constructor(report: TraceReport, private readonly options: TraceViewOptions) {
    super();
    this.addClass('jp-edgespec-view');
    this.addClass('jp-edgespec-trace');
    const unsupported = unsupportedOps(report);
    this.node.append(
      h(
        'div',
        'jp-edgespec-header',
        h(
          'div',
          'jp-edgespec-title',
          h('span', 'jp-edgespec-kicker', 'edgespec trace'),
          h('span', 'jp-edgespec-name', report.models.map(model => model.name).join(', ') || 'no model'),
          h('span', 'jp-edgespec-subtitle', `${report.models.length} ${report.models.length === 1 ? 'model' : 'models'} captured`)
        )
      )
    );
    if (unsupported.length > 0) {
      this.node.append(
        h(
          'div',
          { className: 'jp-edgespec-banner jp-mod-bad', attrs: { role: 'alert' } },
          h('div', 'jp-edgespec-banner-title', `${unsupported.length} unsupported ${unsupported.length === 1 ? 'op' : 'ops'}: this cannot be built yet`),
          h(
            'ul',
            {},
            ...unsupported.map(entry =>
              h('li', {}, h('code', {}, entry.op), entry.count > 0 ? ` ×${entry.count}` : '', entry.where.length ? ` — ${entry.where.join('; ')}` : '')
            )
          ),
          h('div', 'jp-edgespec-banner-hint', 'Replace these ops in the model (see docs/ops.md for the supported vocabulary), then trace again.')
        )
      );
    }
    if (report.error) {
      this.node.append(errorBox(report.error.message, report.error.hint));
    } else if (report.models.length === 0) {
      this.node.append(errorBox('The cell ran no model.', 'Call the model inside the traced cell, e.g. `model(x)`.'));
    }
    for (const model of report.models) {
      const section = new ModelSection(model, options);
      this.sections.push(section);
      this.node.append(section.node);
    }
    options.actions?.jobs.finished.connect(this.onJobFinished, this);
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this.options.actions?.jobs.finished.disconnect(this.onJobFinished, this);
    super.dispose();
  }

  private onJobFinished(_: unknown, job: Job): void {
    if (job.kind === 'build' && job.status === 'done') {
      this.sections.forEach(section => section.onBuildDone(job));
    }
  }
}

class ModelSection {
  readonly node: HTMLElement;
  private readonly table = h('div', 'jp-edgespec-table-wrap jp-mod-tall');
  private readonly buildInfo = h('div', 'jp-edgespec-build-info');
  private readonly bundle: string | null;

  constructor(
    private readonly model: TraceModel,
    private readonly options: TraceViewOptions
  ) {
    this.bundle = model.bundle ? resolveOutputPath(model.bundle, options.notebookPath) : null;
    const totals = modelTotals(model);
    const tensors = (list: TraceModel['inputs']): string =>
      list.map(tensor => `${tensor.name ? tensor.name + ' ' : ''}${formatShape(tensor.shape)} ${tensor.dtype}`).join(', ') || '—';
    this.node = h(
      'section',
      'jp-edgespec-section jp-edgespec-model',
      h('div', 'jp-edgespec-model-head', h('h4', {}, model.name, model.model_class ? h('span', 'jp-edgespec-muted', ` (${model.model_class})`) : null), this.renderActions()),
      keyValueTable([
        ['inputs', tensors(model.inputs)],
        ['outputs', tensors(model.outputs)],
        ['parameters', model.parameter_bytes === null ? 'not captured' : `${formatBytes(model.parameter_bytes)} (${formatInteger(model.parameter_bytes)} B)`],
        [
          'graph',
          `${model.nodes === null ? '' : `${model.nodes} nodes · `}${totals.edgespecOps} edgespec ops · ${totals.frameworkOps} framework ops, ${formatInteger(totals.dispatched)} calls` +
            (model.calls && model.calls > 1 ? ` (model called ${model.calls}× in the cell)` : '')
        ],
        ['bundle', model.bundle ? h('code', {}, model.bundle) : 'not written']
      ]),
      model.error ? errorBox(model.error.message, model.error.hint) : null,
      this.buildInfo,
      this.table
    );
    this.renderTable(null, null);
    void this.findBuild();
  }

  private renderActions(): HTMLElement {
    const bar = h('div', 'jp-edgespec-actions');
    const actions = this.options.actions;
    const blocker = buildBlocker(this.model);
    if (!actions) {
      return bar;
    }
    const target = h('select', { className: 'jp-mod-styled', attrs: { 'aria-label': 'target' } }, ...TARGETS.map(name => h('option', { attrs: { value: name } }, name)));
    const build = button(
      'Build',
      async () => {
        if (this.bundle) {
          await actions.build(this.bundle, target.value as Target);
        }
      },
      { accent: true, title: blocker ?? `Build ${this.model.name} into an image for the chosen target` }
    );
    const buildInt8 = button(
      'Build int8',
      async () => {
        if (this.bundle) {
          await actions.build(this.bundle, target.value as Target, 'int8');
        }
      },
      {
        title:
          blocker ??
          `Build ${this.model.name} with int8 weights and activations (post-training static quantization, calibrated on the input seen while tracing) into <bundle>/build/<target>-int8`
      }
    );
    if (blocker) {
      build.disabled = true;
      buildInt8.disabled = true;
      bar.append(h('span', 'jp-edgespec-bad', this.model.error && !this.model.bundle ? 'capture failed' : 'unsupported ops'));
    }
    bar.append(target, build, buildInt8);
    return bar;
  }

  onBuildDone(job: Job): void {
    if (this.bundle && job.build && isBuildOf(job.build, this.bundle)) {
      void this.findBuild();
    }
  }

  /** The newest build of this bundle (qemu-virt preferred) and its kernel bytes. */
  private async findBuild(): Promise<void> {
    const actions = this.options.actions;
    const bundle = this.bundle;
    if (!actions || !bundle) {
      return;
    }
    let builds: BuildSummary[];
    try {
      builds = (await actions.client.listBuilds()).filter(entry => isBuildOf(entry.build, bundle));
    } catch {
      return; // the builds panel reports a missing server extension
    }
    if (builds.length === 0) {
      return;
    }
    builds.sort((a, b) => Number(b.target === 'qemu-virt') - Number(a.target === 'qemu-virt') || b.modified.localeCompare(a.modified));
    const chosen = builds[0];
    let footprint: Footprint;
    try {
      footprint = await actions.client.footprint(chosen.build);
    } catch (error) {
      clear(this.buildInfo);
      const apiError = error as { message?: string; hint?: string };
      this.buildInfo.append(errorBox(`Cannot read the footprint of ${chosen.build}: ${apiError.message ?? String(error)}`, apiError.hint));
      return;
    }
    this.renderTable(footprint, chosen);
  }

  private renderTable(footprint: Footprint | null, build: BuildSummary | null): void {
    const rows = opRows(this.model, footprint?.kernels);
    clear(this.table);
    this.table.append(
      dataTable(
        ['framework op', 'count', 'edgespec op', 'supported', footprint ? 'kernel bytes' : 'kernel bytes (after a build)'],
        rows.map(row => [
          h('code', {}, row.frameworkOp),
          String(row.count),
          row.edgespecOp ? h('code', {}, row.edgespecOp) : h('span', 'jp-edgespec-muted', '—'),
          row.supported ? h('span', 'jp-edgespec-ok', '✓ yes') : h('span', 'jp-edgespec-bad', '✗ no'),
          !footprint
            ? h('span', 'jp-edgespec-muted', '—')
            : row.kernel
              ? h(
                  'span',
                  { title: `${row.kernel.names.join(', ')}${row.kernel.sharedWith.length ? `; shared with ${row.kernel.sharedWith.join(', ')}` : ''}` },
                  formatBytes(row.kernel.bytes),
                  h('span', 'jp-edgespec-muted', ` ${row.kernel.names.join(', ')}${row.kernel.sharedWith.length ? ' (shared)' : ''}`)
                )
              : row.removed
                ? h('span', { className: 'jp-edgespec-muted', title: 'dropped at capture: it computes nothing at inference' }, 'removed')
                : h('span', { className: 'jp-edgespec-muted', title: 'folded or fused into another op at build time' }, row.supported ? 'no kernel (fused)' : '—')
        ]),
        { numeric: [false, true, false, false, true], rowClass: index => (rows[index].supported ? '' : 'jp-edgespec-row-bad') }
      )
    );
    clear(this.buildInfo);
    const actions = this.options.actions;
    if (footprint && build && actions) {
      this.buildInfo.append(
        h('span', {}, `Built for ${build.target}${build.dtype === 'int8' ? ' in int8' : ''}: image ${formatBytes(footprint.totals.image_bytes.value)}, of which weights ${formatBytes(footprint.totals.weights_bytes.value)}.`),
        button('Footprint', () => actions.openFootprint(build.build)),
        button('Run in QEMU', () => actions.run(build.build)),
        button('Download', () => actions.download(build.build))
      );
    }
  }
}
