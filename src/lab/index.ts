/**
 * The edgespec JupyterLab extension: renderers for the trace, footprint and run outputs,
 * the "edgespec builds" side panel, the Trace button on code cells and the commands.
 */
import { ILayoutRestorer, JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ICommandPalette, InputDialog, Notification } from '@jupyterlab/apputils';
import type { ICodeCellModel } from '@jupyterlab/cells';
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import type { ReadonlyPartialJSONObject } from '@lumino/coreutils';
import { BuildDtype, EdgespecClient, Job, Target } from './api';
import { edgespecIcon, traceIcon } from './icons';
import { JobTracker } from './jobTracker';
import { LabActions } from './labActions';
import { TRACE_MIME } from './mime';
import { jobTitle, parseBuildDtype } from './model/jobs';
import { resolveOutputPath } from './model/paths';
import { buildBlocker, TraceReport } from './model/traceTable';
import { parseTraceReport } from './model/validate';
import { BuildsPanel } from './panel/buildsPanel';
import { createRendererFactories } from './renderers';
import { traceActiveCell, TraceCellError } from './traceCell';

export namespace CommandIDs {
  export const traceCell = 'edgespec:trace-cell';
  export const build = 'edgespec:build';
  export const run = 'edgespec:run';
  export const download = 'edgespec:download';
  export const openBuilds = 'edgespec:open-builds';
  export const openFootprint = 'edgespec:open-footprint';
  export const openRun = 'edgespec:open-run';
}

const PALETTE_CATEGORY = 'edgespec';

const plugin: JupyterFrontEndPlugin<void> = {
  id: 'edgespec:plugin',
  description: 'Trace a notebook cell, explore the footprint, build and boot the model image in QEMU.',
  autoStart: true,
  requires: [IRenderMimeRegistry],
  optional: [INotebookTracker, ICommandPalette, ILayoutRestorer],
  activate: (
    app: JupyterFrontEnd,
    rendermime: IRenderMimeRegistry,
    notebooks: INotebookTracker | null,
    palette: ICommandPalette | null,
    restorer: ILayoutRestorer | null
  ) => {
    const client = new EdgespecClient(app.serviceManager.serverSettings);
    const jobs = new JobTracker(client);
    let panel: BuildsPanel | null = null;
    const showPanel = (): void => {
      if (panel) {
        app.shell.activateById(panel.id);
      }
    };
    const actions = new LabActions(app, client, jobs, showPanel);

    panel = new BuildsPanel(actions);
    panel.title.icon = edgespecIcon;
    app.shell.add(panel, 'right', { rank: 900 });
    restorer?.add(panel, 'edgespec-builds');

    const factories = createRendererFactories(actions);
    const register = (registry: IRenderMimeRegistry): void => {
      for (const factory of factories) {
        if (registry.getFactory(factory.mimeTypes[0]) !== factory) {
          registry.addFactory(factory, factory.defaultRank);
        }
      }
    };
    register(rendermime);
    // notebooks restored before this plugin activated hold clones made without the factories
    notebooks?.forEach(notebook => register(notebook.content.rendermime));
    notebooks?.widgetAdded.connect((_, notebook) => register(notebook.content.rendermime));

    jobs.finished.connect((_, job) => notifyFinished(job, actions));

    addCommands(app, actions, notebooks, showPanel);
    if (palette) {
      for (const command of [CommandIDs.traceCell, CommandIDs.build, CommandIDs.run, CommandIDs.openBuilds]) {
        palette.addItem({ command, category: PALETTE_CATEGORY, args: { isPalette: true } });
      }
      palette.addItem({ command: CommandIDs.build, category: PALETTE_CATEGORY, args: { isPalette: true, dtype: 'int8' } });
    }
  }
};

function addCommands(
  app: JupyterFrontEnd,
  actions: LabActions,
  notebooks: INotebookTracker | null,
  showPanel: () => void
): void {
  const { commands } = app;
  const currentCodeCell = (): boolean => notebooks?.currentWidget?.content.activeCell?.model.type === 'code';
  notebooks?.activeCellChanged.connect(() => commands.notifyCommandChanged(CommandIDs.traceCell));
  notebooks?.currentChanged.connect(() => commands.notifyCommandChanged(CommandIDs.traceCell));

  commands.addCommand(CommandIDs.traceCell, {
    // the cell toolbar shows the icon with the caption; the palette shows a full name
    label: args => (args.isPalette ? 'Trace the Active Cell (%%edgespec trace)' : 'Trace'),
    caption: 'Trace: run this cell under %%edgespec trace, capture the models it calls and show their ops',
    icon: traceIcon,
    isEnabled: currentCodeCell,
    execute: async () => {
      const notebook = notebooks?.currentWidget;
      if (!notebook) {
        Notification.warning('Open a notebook and select the code cell to trace.');
        return;
      }
      try {
        await traceActiveCell(notebook);
      } catch (error) {
        if (error instanceof TraceCellError) {
          Notification.error(`${error.message} ${error.hint}`, { autoClose: false });
        } else {
          actions.reportError('Trace failed', error);
        }
      }
    }
  });

  commands.addCommand(CommandIDs.build, {
    label: args =>
      (args.bundle ? `Build ${String(args.bundle)}` : 'Build the Traced Model') + (args.dtype === 'int8' ? ' (int8)' : ''),
    caption: 'Build a traced bundle into an image (default target qemu-virt; dtype "int8" quantizes it)',
    icon: edgespecIcon,
    execute: async args => {
      const target = (args.target as Target | undefined) ?? undefined;
      let dtype: BuildDtype | undefined;
      try {
        dtype = parseBuildDtype(args.dtype);
      } catch (error) {
        actions.reportError('Cannot build', error);
        return;
      }
      const bundle = (args.bundle as string | undefined) ?? bundleFromActiveCell(notebooks) ?? (await askPath('Build a bundle', 'Bundle folder (holds graph.json), relative to the server root'));
      if (bundle) {
        await actions.build(bundle, target, dtype);
      }
    }
  });

  commands.addCommand(CommandIDs.run, {
    label: 'Run a Build in QEMU',
    caption: 'Boot a build and compare its answer with the framework',
    execute: async args => {
      const build = (args.build as string | undefined) ?? (await askPath('Run a build', 'Build folder (holds build.json), relative to the server root'));
      if (build) {
        await actions.run(build);
      }
    }
  });

  commands.addCommand(CommandIDs.download, {
    label: 'Download a Build',
    execute: async args => {
      const build = (args.build as string | undefined) ?? (await askPath('Download a build', 'Build folder, relative to the server root'));
      if (build) {
        await actions.download(build);
      }
    }
  });

  commands.addCommand(CommandIDs.openBuilds, {
    label: 'Show edgespec Builds',
    caption: 'Every build and run with its progress, log and results',
    icon: edgespecIcon,
    execute: () => showPanel()
  });

  commands.addCommand(CommandIDs.openFootprint, {
    label: 'Open a Build\'s Footprint',
    execute: args => actions.openFootprint(requiredBuild(args))
  });

  commands.addCommand(CommandIDs.openRun, {
    label: 'Open a Build\'s Last Run',
    execute: args => actions.openRun(requiredBuild(args))
  });
}

function requiredBuild(args: ReadonlyPartialJSONObject): string {
  if (typeof args.build !== 'string' || args.build === '') {
    throw new Error('This command needs a "build" argument: the build folder.');
  }
  return args.build;
}

async function askPath(title: string, label: string): Promise<string | null> {
  const result = await InputDialog.getText({ title, label, placeholder: 'edgespec-bundles/…' });
  const value = result.value?.trim();
  return result.button.accept && value ? value : null;
}

/** The first buildable model of a trace output in the active cell, resolved for the server. */
function bundleFromActiveCell(notebooks: INotebookTracker | null): string | null {
  const notebook: NotebookPanel | null | undefined = notebooks?.currentWidget;
  const cell = notebook?.content.activeCell;
  if (!notebook || !cell || cell.model.type !== 'code') {
    return null;
  }
  const outputs = (cell.model as ICodeCellModel).outputs;
  for (let index = 0; index < outputs.length; index++) {
    const data = outputs.get(index).data[TRACE_MIME];
    if (data === undefined) {
      continue;
    }
    let report: TraceReport;
    try {
      report = parseTraceReport(data);
    } catch {
      continue;
    }
    const model = report.models.find(entry => buildBlocker(entry) === null);
    if (model?.bundle) {
      return resolveOutputPath(model.bundle, notebook.context.path);
    }
  }
  return null;
}

function notifyFinished(job: Job, actions: LabActions): void {
  const title = jobTitle(job);
  const build = job.build;
  if (job.status === 'done' && build) {
    const follow =
      job.kind === 'build'
        ? [
            { label: 'Footprint', callback: () => actions.openFootprint(build) },
            { label: 'Run in QEMU', callback: () => void actions.run(build) }
          ]
        : [{ label: job.kind === 'diff' ? 'Layers' : 'Result', callback: () => actions.openRun(build) }];
    Notification.success(`${title}: done`, { autoClose: 8000, actions: follow });
  } else if (job.status === 'failed') {
    Notification.error(`${title} failed: ${job.error?.message ?? 'see its log'}${job.error?.hint ? ` ${job.error.hint}` : ''}`, {
      autoClose: false,
      actions: [{ label: 'Builds', callback: () => actions.openBuilds() }]
    });
  }
}

export default plugin;
