/**
 * The footprint view: totals, a zoomable sunburst with breadcrumbs and a searchable table
 * beside it, a flash/RAM switch, the image against a generic stack, and a diff against
 * another build.
 */
import { Widget } from '@lumino/widgets';
import type { Footprint } from '../../common/types';
import type { EdgespecActions } from '../actions';
import type { BuildSummary } from '../api';
import { findBuildOf } from '../model/builds';
import { parseFootprint } from '../model/validate';
import {
  ancestry,
  buildSideTree,
  bytesByFamily,
  bytesByKind,
  FAMILIES,
  findById,
  FootprintItem,
  KINDS,
  searchTree,
  Side,
  SIDE_LABELS,
  SIDES,
  tableRows
} from '../../common/report/footprintTree';
import { formatBytes, formatExactBytes, formatShare } from '../../common/report/format';
import { DiffSection } from './diffSection';
import { append, button, clear, dataTable, h } from './dom';
import { renderStackSection } from './stackSection';
import { renderLinuxVmSection } from './linuxVmSection';
import { ColorBy, colorClass, SunburstChart } from './sunburstChart';

const MAX_TABLE_ROWS = 250;

export interface FootprintViewOptions {
  actions: EdgespecActions | null;
  /** The build directory this footprint belongs to, when the output says so. */
  build: string | null;
}

export class FootprintView extends Widget {
  private side: Side = 'flash';
  private colorBy: ColorBy = 'family';
  private readonly colorButtons = new Map<ColorBy, HTMLButtonElement>();
  private query = '';
  private focusId = '';
  private readonly trees = new Map<Side, FootprintItem>();
  private readonly chart: SunburstChart;
  private readonly crumbs = h('nav', { className: 'jp-edgespec-breadcrumbs', attrs: { 'aria-label': 'zoom path' } });
  private readonly tableWrap = h('div', 'jp-edgespec-table-wrap');
  private readonly matchSummary = h('span', 'jp-edgespec-match-summary');
  private readonly sideButtons = new Map<Side, HTMLButtonElement>();
  private readonly legend = h('div', 'jp-edgespec-legend');
  private readonly actionsBar = h('div', 'jp-edgespec-actions');
  private readonly diff: DiffSection | null = null;
  private builds: Promise<BuildSummary[]> | null = null;
  private build: string | null;

  constructor(
    private readonly footprint: Footprint,
    private readonly options: FootprintViewOptions
  ) {
    super();
    this.addClass('jp-edgespec-view');
    this.addClass('jp-edgespec-footprint');
    this.build = options.build;
    this.chart = new SunburstChart({
      onFocus: id => this.setFocus(id),
      onHover: id => this.highlightRow(id)
    });
    this.node.append(
      this.renderHeader(),
      this.renderTotals(),
      this.renderToolbar(),
      this.crumbs,
      h('div', 'jp-edgespec-footprint-main', this.chart.node, this.tableWrap),
      this.legend,
      renderLinuxVmSection(this.footprint) ?? '',
      renderStackSection(this.footprint)
    );
    if (options.actions) {
      const actions = options.actions;
      this.diff = new DiffSection(this.footprint, () => this.listBuilds(), build => actions.client.footprint(build).then(parseFootprint));
      this.node.append(this.diff.node);
    } else {
      this.node.append(h('div', 'jp-edgespec-note', 'Comparing builds needs the edgespec server extension.'));
    }
    this.refresh();
    void this.findBuild();
  }

  private tree(side: Side): FootprintItem {
    let tree = this.trees.get(side);
    if (!tree) {
      tree = buildSideTree(this.footprint, side);
      this.trees.set(side, tree);
    }
    return tree;
  }

  private renderHeader(): HTMLElement {
    const footprint = this.footprint;
    return h(
      'div',
      'jp-edgespec-header',
      h(
        'div',
        'jp-edgespec-title',
        h('span', 'jp-edgespec-kicker', 'edgespec footprint'),
        h('span', 'jp-edgespec-name', footprint.model),
        h('span', 'jp-edgespec-subtitle', `${footprint.target} · ${footprint.dtype} · ${footprint.image.file}`)
      ),
      this.actionsBar
    );
  }

  private renderTotals(): HTMLElement {
    const totals = this.footprint.totals;
    const chip = (label: string, value: number, how: string, className = ''): HTMLElement =>
      h(
        'div',
        { className: `jp-edgespec-chip ${className}`, title: `${formatExactBytes(value)} — ${how}` },
        h('span', 'jp-edgespec-chip-value', formatBytes(value)),
        h('span', 'jp-edgespec-chip-label', label)
      );
    const arena = this.footprint.arena;
    return h(
      'div',
      'jp-edgespec-chips',
      chip('image file', totals.image_bytes.value, totals.image_bytes.how, 'jp-mod-primary'),
      chip('weights', totals.weights_bytes.value, totals.weights_bytes.how),
      chip('image − weights', totals.overhead_bytes.value, totals.overhead_bytes.how),
      chip('peak RAM', totals.peak_ram_bytes.value, totals.peak_ram_bytes.how),
      chip(
        `arena (${arena.lower_bound > 0 ? (arena.bytes / arena.lower_bound).toFixed(2) : '—'}× lower bound)`,
        arena.bytes,
        `lower bound ${formatExactBytes(arena.lower_bound)}; ${arena.how}`
      )
    );
  }

  private renderToolbar(): HTMLElement {
    const switcher = h('div', { className: 'jp-edgespec-segmented', attrs: { role: 'group', 'aria-label': 'flash or RAM' } });
    const names: Record<Side, string> = { flash: 'Flash', overhead: 'Without weights', ram: 'RAM' };
    for (const side of SIDES) {
      const choice = h('button', {
        className: 'jp-edgespec-segment',
        title: SIDE_LABELS[side],
        attrs: { type: 'button' },
        onClick: () => this.setSide(side)
      }, `${names[side]} ${formatBytes(this.tree(side).bytes)}`);
      this.sideButtons.set(side, choice);
      switcher.append(choice);
    }
    const search = h('input', {
      className: 'jp-edgespec-search jp-mod-styled',
      attrs: { type: 'search', placeholder: 'Search: conv2d, libc, rodata…', 'aria-label': 'search the footprint' }
    });
    search.addEventListener('input', () => {
      this.query = search.value;
      this.refresh();
    });
    const colors = h('div', { className: 'jp-edgespec-segmented jp-mod-small', attrs: { role: 'group', 'aria-label': 'colour by' } });
    const colorLabels: Record<ColorBy, [string, string]> = {
      family: ['source', 'Colour by what the bytes belong to: weights, kernels, platform, libc…'],
      kind: ['kind', 'Colour by section kind: code, rodata, weights, data, bss, arena, stack']
    };
    for (const colorBy of ['family', 'kind'] as ColorBy[]) {
      const choice = h('button', {
        className: 'jp-edgespec-segment',
        title: colorLabels[colorBy][1],
        attrs: { type: 'button' },
        onClick: () => this.setColorBy(colorBy)
      }, colorLabels[colorBy][0]);
      this.colorButtons.set(colorBy, choice);
      colors.append(choice);
    }
    return h(
      'div',
      'jp-edgespec-toolbar',
      switcher,
      search,
      this.matchSummary,
      h('span', 'jp-edgespec-spacer'),
      h('span', 'jp-edgespec-color-by', h('span', 'jp-edgespec-note', 'colour'), colors)
    );
  }

  private setColorBy(colorBy: ColorBy): void {
    this.colorBy = colorBy;
    this.refresh();
  }

  private setSide(side: Side): void {
    if (side === this.side) {
      return;
    }
    this.side = side;
    this.focusId = '';
    this.refresh();
    this.diff?.setSide(side);
  }

  private setFocus(id: string): void {
    const root = this.tree(this.side);
    if (!findById(root, id)) {
      return;
    }
    this.focusId = id;
    this.chart.setFocus(id);
    this.renderBreadcrumbs();
    this.renderTable();
  }

  /** Everything that depends on side, focus and query. */
  private refresh(): void {
    const root = this.tree(this.side);
    for (const [side, choice] of this.sideButtons) {
      choice.classList.toggle('jp-mod-active', side === this.side);
      choice.setAttribute('aria-pressed', String(side === this.side));
    }
    for (const [colorBy, choice] of this.colorButtons) {
      choice.classList.toggle('jp-mod-active', colorBy === this.colorBy);
      choice.setAttribute('aria-pressed', String(colorBy === this.colorBy));
    }
    this.chart.setColorBy(this.colorBy);
    this.chart.setTree(root, this.focusId);
    this.chart.setLit(searchTree(root, this.query)?.lit ?? null);
    this.renderBreadcrumbs();
    this.renderTable();
    this.renderLegend();
  }

  private renderBreadcrumbs(): void {
    const chain = ancestry(this.tree(this.side), this.focusId);
    clear(this.crumbs);
    chain.forEach((item, index) => {
      const last = index === chain.length - 1;
      const label = index === 0 ? SIDE_LABELS[this.side] : item.name;
      append(
        this.crumbs,
        last
          ? h('span', { className: 'jp-edgespec-crumb jp-mod-current', attrs: { 'aria-current': 'true' } }, `${label} · ${formatBytes(item.bytes)}`)
          : h('button', { className: 'jp-edgespec-crumb', attrs: { type: 'button' }, onClick: () => this.setFocus(item.id) }, label),
        last ? null : h('span', 'jp-edgespec-crumb-sep', '›')
      );
    });
  }

  private renderTable(): void {
    const root = this.tree(this.side);
    const rows = tableRows(root, this.focusId, this.query, formatShare);
    const search = searchTree(root, this.query);
    const scope = findById(root, this.focusId) ?? root;
    this.matchSummary.textContent = search
      ? `${search.matched.size} ${search.matched.size === 1 ? 'match' : 'matches'} · ${formatBytes(search.bytes)} (${formatShare(search.bytes, root.bytes)})`
      : `${rows.length} items in ${this.focusId === '' ? SIDE_LABELS[this.side] : scope.name}`;
    clear(this.tableWrap);
    if (rows.length === 0) {
      this.tableWrap.append(h('div', 'jp-edgespec-empty', search ? 'Nothing here matches the search.' : 'No bytes on this side.'));
      return;
    }
    const shown = rows.slice(0, MAX_TABLE_ROWS);
    const table = dataTable(
      ['item', 'source', 'bytes', 'share'],
      shown.map(row => [
        h(
          'div',
          'jp-edgespec-item-cell',
          h('span', { className: `jp-edgespec-swatch ${colorClass(row, this.colorBy)}`, title: `${row.family}${row.kind ? ', ' + row.kind : ''}` }),
          h('div', {}, h('div', 'jp-edgespec-item-name', row.name), row.where ? h('div', 'jp-edgespec-item-where', row.where) : null)
        ),
        row.source,
        formatBytes(row.bytes),
        row.share
      ]),
      { numeric: [false, false, true, true], className: 'jp-edgespec-footprint-table' }
    );
    const body = table.tBodies[0];
    shown.forEach((row, index) => {
      const tr = body.rows[index];
      tr.dataset.id = row.id;
      tr.title = `${row.bytes.toLocaleString('en-US')} B — click to show in the chart`;
      tr.addEventListener('mouseenter', () => this.chart.highlight(row.id));
      tr.addEventListener('mouseleave', () => this.chart.highlight(null));
      tr.addEventListener('click', () => {
        const parentId = row.id.includes('/') ? row.id.slice(0, row.id.lastIndexOf('/')) : '';
        this.setFocus(parentId);
        this.chart.highlight(row.id);
      });
    });
    this.tableWrap.append(table);
    if (rows.length > shown.length) {
      this.tableWrap.append(h('div', 'jp-edgespec-note', `${rows.length - shown.length} smaller items not listed; search or zoom to see them.`));
    }
  }

  private highlightRow(id: string | null): void {
    for (const row of Array.from(this.tableWrap.querySelectorAll('tr[data-id]'))) {
      row.classList.toggle('jp-mod-hover', (row as HTMLElement).dataset.id === id);
    }
  }

  private renderLegend(): void {
    clear(this.legend);
    const root = this.tree(this.side);
    const entries =
      this.colorBy === 'family'
        ? bytesByFamily(root).map(({ family, bytes }) => ({
            name: family,
            bytes,
            className: `jp-edgespec-family-${family}`,
            label: FAMILIES.find(entry => entry.family === family)?.label ?? family
          }))
        : bytesByKind(root).map(({ kind, bytes }) => ({
            name: kind,
            bytes,
            className: `jp-edgespec-kind-${kind}`,
            label: KINDS.find(entry => entry.kind === kind)?.label ?? 'no kind given'
          }));
    for (const entry of entries) {
      this.legend.append(
        h(
          'span',
          { className: 'jp-edgespec-legend-item', title: entry.label },
          h('span', `jp-edgespec-swatch ${entry.className}`),
          `${entry.name} ${formatBytes(entry.bytes)} (${formatShare(entry.bytes, root.bytes)})`
        )
      );
    }
  }

  /** The server's build list, asked for once per view. */
  private listBuilds(): Promise<BuildSummary[]> {
    if (!this.builds && this.options.actions) {
      this.builds = this.options.actions.client.listBuilds();
      // ask again next time if this failed (e.g. the server was restarting)
      this.builds.catch(() => (this.builds = null));
    }
    return this.builds ?? Promise.resolve([]);
  }

  /** Find the build directory to act on: the output's metadata, else the image checksum. */
  private async findBuild(): Promise<void> {
    const actions = this.options.actions;
    if (!actions) {
      return;
    }
    if (!this.build) {
      const builds = await this.listBuilds().catch(() => null);
      this.build = builds ? findBuildOf(this.footprint, builds) : null;
    }
    clear(this.actionsBar);
    const build = this.build;
    if (build) {
      this.actionsBar.append(
        button('Run in QEMU', () => actions.run(build), { accent: true, title: `Boot ${build} and compare with the framework` }),
        button('Download', () => actions.download(build), { title: 'Image, boot script, footprint, report, console log and checksums in one .zip' })
      );
    }
    this.actionsBar.append(button('Builds', () => actions.openBuilds(), { title: 'Open the edgespec builds panel' }));
  }
}
