/**
 * "Compare with another build": pick one of the server's builds, see totals, families,
 * sources and kernels side by side (deltas are this build − the chosen one).
 */
import type { Footprint } from '../../common/types';
import type { BuildSummary } from '../api';
import { otherBuilds } from '../model/builds';
import { DeltaRow, diffFootprints, footprintLabel, splitUnchanged } from '../model/footprintDiff';
import { Side, SIDE_LABELS } from '../../common/report/footprintTree';
import { formatByteDelta, formatBytes } from '../../common/report/format';
import { clear, dataTable, errorBox, h } from './dom';

export class DiffSection {
  readonly node = h('section', 'jp-edgespec-section jp-edgespec-diff');
  private readonly select = h('select', { className: 'jp-mod-styled', attrs: { 'aria-label': 'build to compare with' } });
  private readonly body = h('div', 'jp-edgespec-diff-body');
  private other: Footprint | null = null;
  private side: Side = 'flash';
  private listed = false;

  constructor(
    private readonly footprint: Footprint,
    private readonly listBuilds: () => Promise<BuildSummary[]>,
    private readonly readFootprint: (build: string) => Promise<Footprint>
  ) {
    this.select.append(h('option', { attrs: { value: '' } }, 'Choose a build…'));
    this.select.addEventListener('focus', () => void this.fillChoices());
    this.select.addEventListener('change', () => void this.pick(this.select.value));
    this.node.append(
      h('h4', {}, 'Compare with another build'),
      h('div', 'jp-edgespec-toolbar', this.select, h('span', 'jp-edgespec-note', 'Deltas are this build − the chosen one.')),
      this.body
    );
    void this.fillChoices();
  }

  setSide(side: Side): void {
    this.side = side;
    this.render();
  }

  private async fillChoices(): Promise<void> {
    if (this.listed) {
      return;
    }
    let builds: BuildSummary[];
    try {
      builds = await this.listBuilds();
    } catch (error) {
      this.showError('Cannot list builds', error);
      return;
    }
    this.listed = true;
    for (const build of otherBuilds(this.footprint, builds)) {
      this.select.append(
        h('option', { attrs: { value: build.build } }, `${build.model} · ${build.target} · ${formatBytes(build.image_bytes)} — ${build.build}`)
      );
    }
    if (this.select.options.length === 1) {
      this.select.options[0].textContent = 'No other build on this server yet';
    }
  }

  private async pick(build: string): Promise<void> {
    clear(this.body);
    this.other = null;
    if (!build) {
      return;
    }
    this.body.append(h('div', 'jp-edgespec-note', 'Loading…'));
    try {
      this.other = await this.readFootprint(build);
    } catch (error) {
      this.showError("Cannot read that build's footprint", error);
      return;
    }
    this.render();
  }

  private showError(what: string, error: unknown): void {
    clear(this.body);
    const apiError = error as { message?: string; hint?: string };
    this.body.append(errorBox(`${what}: ${apiError.message ?? String(error)}`, apiError.hint));
  }

  private render(): void {
    if (!this.other) {
      return;
    }
    const diff = diffFootprints(this.other, this.footprint, this.side);
    const sources = splitUnchanged(diff.sources);
    const kernels = splitUnchanged(diff.kernels);
    const numeric = [false, true, true, true];
    clear(this.body);
    this.body.append(
      h('div', 'jp-edgespec-diff-labels', h('span', {}, `before: ${diff.before}`), h('span', {}, `after: ${footprintLabel(this.footprint)} (this build)`)),
      h(
        'div',
        'jp-edgespec-diff-grid',
        h('div', {}, h('h5', {}, 'Totals'), dataTable(['', 'before', 'after', 'Δ'], deltaRows(diff.totals), { numeric })),
        h('div', {}, h('h5', {}, `${SIDE_LABELS[this.side]} by family`), dataTable(['family', 'before', 'after', 'Δ'], deltaRows(diff.families), { numeric }))
      ),
      h('h5', {}, `${SIDE_LABELS[this.side]} by source: ${sources.changed.length} of ${diff.sources.length} changed`),
      h('div', 'jp-edgespec-table-wrap', dataTable(['source', 'before', 'after', 'Δ'], compactRows(sources), { numeric })),
      h('h5', {}, `Kernels: ${kernels.changed.length} of ${diff.kernels.length} changed`),
      dataTable(['kernel', 'before', 'after', 'Δ'], compactRows(kernels), { numeric })
    );
  }
}

function deltaCell(delta: number): HTMLElement {
  return h('span', `jp-edgespec-delta ${delta > 0 ? 'jp-mod-up' : delta < 0 ? 'jp-mod-down' : ''}`, formatByteDelta(delta));
}

function deltaRows(entries: readonly DeltaRow[]): HTMLElement[][] {
  return entries.map(entry => [
    h('span', {}, entry.name),
    h('span', {}, formatBytes(entry.before)),
    h('span', {}, formatBytes(entry.after)),
    deltaCell(entry.delta)
  ]);
}

/** The changed rows, then one row for everything that did not change. */
function compactRows(split: ReturnType<typeof splitUnchanged>): HTMLElement[][] {
  const rows = deltaRows(split.changed);
  if (split.unchanged > 0) {
    rows.push([
      h('span', 'jp-edgespec-muted', `${split.unchanged} unchanged`),
      h('span', {}, formatBytes(split.unchangedBytes)),
      h('span', {}, formatBytes(split.unchangedBytes)),
      deltaCell(0)
    ]);
  }
  return rows;
}
