import { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { DocumentRegistry } from '@jupyterlab/docregistry';
import { NotebookPanel } from '@jupyterlab/notebook';

import { BusyItem, CellRuns, RunLines } from '../execution';
import { CollabContentProvider } from '../provider';
import { ICollabContentProvider } from '../tokens';

/**
 * Who ran which cell, for everyone in a notebook: "run by Bob · 2 min ago" under each
 * code cell that was run, and "Bob is running [3]" in the toolbar while a run goes on.
 * The server stamps who ran (the runner's JupyterLab reports start and end, see
 * `reportingExecutor` in the execution plugin) and keeps every run.
 */
export const runsPlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyter-collab:runs',
  description: 'Shows who ran each notebook cell, and who is running one now.',
  autoStart: true,
  requires: [ICollabContentProvider],
  activate: (app: JupyterFrontEnd, provider: CollabContentProvider): void => {
    const runs = new Map<unknown, CellRuns>();
    const runsOf = (shared: unknown): CellRuns => {
      let cellRuns = runs.get(shared);
      if (!cellRuns) {
        cellRuns = new CellRuns();
        runs.set(shared, cellRuns);
      }
      return cellRuns;
    };
    // from the moment the connection exists: the `runs` event follows the document
    provider.documentChanged.connect((_, live) => {
      const connection = provider.connectionOf(live.model);
      if (connection === null || live.type !== 'notebook' || runs.has(live.model)) {
        return;
      }
      const cellRuns = runsOf(live.model);
      connection.eventReceived.connect((__, event) => cellRuns.apply(event));
      live.model.disposed.connect(() => runs.delete(live.model));
    });
    const me = (): string | undefined => app.serviceManager.user.identity?.username;
    app.docRegistry.addWidgetExtension('Notebook', {
      createNew: (panel: NotebookPanel, context: DocumentRegistry.IContext<any>) => {
        void context.ready.then(() => {
          const shared = context.model.sharedModel;
          const live = provider.documentOf(shared);
          if (panel.isDisposed || !live) {
            return;
          }
          const cellRuns = runsOf(shared);
          const lines = new RunLines(panel.content, cellRuns, me);
          const busy = new BusyItem(cellRuns, cell => live.cellNumber(cell), me);
          if (!panel.toolbar.insertAfter('run', 'collabBusy', busy)) {
            panel.toolbar.addItem('collabBusy', busy);
          }
          const render = (): void => lines.render();
          context.model.cells.changed.connect(render);
          lines.render();
          panel.disposed.connect(() => {
            context.model.cells.changed.disconnect(render);
            lines.dispose();
          });
        });
      }
    });
  }
};
