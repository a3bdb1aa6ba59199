/**
 * MIME renderers for the three edgespec outputs. Each parses its JSON, shows the view (or
 * one clear sentence when the JSON is not what it should be), and writes a static
 * text/html (and for the footprint an SVG) fallback into the output when missing, so the
 * saved notebook reads well without the extension, as the Vega renderer does with PNG.
 */
import type { IRenderMime } from '@jupyterlab/rendermime-interfaces';
import { PanelLayout, Widget } from '@lumino/widgets';
import type { EdgespecActions } from './actions';
import { renderFootprintSVG } from '../common/report/footprintSvg';
import { footprintStaticHtml, runStaticHtml, traceStaticHtml } from './model/staticHtml';
import { InvalidReportError, parseFootprint, parseRunReport, parseTraceReport } from './model/validate';
import { FOOTPRINT_MIME, RUN_MIME, TRACE_MIME } from './mime';
import { errorBox } from './views/dom';
import { FootprintView } from './views/footprintView';
import { RunView } from './views/runView';
import { TraceView } from './views/traceView';

/** Rank below text/html's so JupyterLab prefers these views when the extension is present. */
const RANK = 20;

interface Rendered {
  view: Widget;
  fallback: Record<string, string>;
}

type Build = (data: unknown, context: RenderContext) => Rendered;

interface RenderContext {
  actions: EdgespecActions | null;
  notebookPath: string | null;
  /** `build` from the output's metadata for this MIME type, if any. */
  build: string | null;
}

const BUILDERS: Record<string, Build> = {
  [TRACE_MIME]: (data, context) => {
    const report = parseTraceReport(data);
    return {
      view: new TraceView(report, { actions: context.actions, notebookPath: context.notebookPath }),
      fallback: { 'text/html': traceStaticHtml(report) }
    };
  },
  [FOOTPRINT_MIME]: (data, context) => {
    const footprint = parseFootprint(data);
    return {
      view: new FootprintView(footprint, { actions: context.actions, build: context.build }),
      fallback: { 'text/html': footprintStaticHtml(footprint), 'image/svg+xml': renderFootprintSVG(footprint) }
    };
  },
  [RUN_MIME]: (data, context) => {
    const report = parseRunReport(data);
    return {
      view: new RunView(report, { actions: context.actions, build: context.build }),
      fallback: { 'text/html': runStaticHtml(report) }
    };
  }
};

export class EdgespecRenderer extends Widget implements IRenderMime.IRenderer {
  private view: Widget | null = null;

  constructor(
    private readonly options: IRenderMime.IRendererOptions,
    private readonly actions: EdgespecActions | null
  ) {
    super();
    this.addClass('jp-edgespec-renderer');
    this.layout = new PanelLayout();
  }

  async renderModel(model: IRenderMime.IMimeModel): Promise<void> {
    const mimeType = this.options.mimeType;
    this.view?.dispose();
    this.view = null;
    const resolverPath = (this.options.resolver as { path?: unknown } | null)?.path;
    const metadata = model.metadata[mimeType] as { build?: unknown } | undefined;
    const context: RenderContext = {
      actions: this.actions,
      notebookPath: typeof resolverPath === 'string' ? resolverPath : null,
      build: typeof metadata?.build === 'string' ? metadata.build : null
    };
    let rendered: Rendered;
    try {
      rendered = BUILDERS[mimeType](model.data[mimeType], context);
    } catch (error) {
      const message = error instanceof InvalidReportError ? error.message : `Cannot show this output: ${String(error)}`;
      this.view = new Widget({ node: errorBox(message, 'Re-run the cell with a matching edgespec version.') });
      (this.layout as PanelLayout).addWidget(this.view);
      return;
    }
    this.view = rendered.view;
    (this.layout as PanelLayout).addWidget(this.view);
    // Deferred: the output area is still inserting this output while it renders, and a
    // synchronous setData makes it look up a widget it has not added yet.
    setTimeout(() => {
      const missing = Object.entries(rendered.fallback).filter(([type]) => model.data[type] === undefined);
      if (missing.length > 0) {
        model.setData({ data: { ...model.data, ...Object.fromEntries(missing) } });
      }
    }, 0);
  }
}

/** One factory per MIME type, all sharing the application's actions. */
export function createRendererFactories(actions: EdgespecActions | null): IRenderMime.IRendererFactory[] {
  return [TRACE_MIME, FOOTPRINT_MIME, RUN_MIME].map(mimeType => ({
    safe: true,
    mimeTypes: [mimeType],
    defaultRank: RANK,
    createRenderer: options => new EdgespecRenderer(options, actions)
  }));
}
