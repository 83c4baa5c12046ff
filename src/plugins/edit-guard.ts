import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { Notification } from '@jupyterlab/apputils';
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';

import { CollabContentProvider } from '../provider';
import {
  forbiddenEdit,
  GUARDED_COMMANDS,
  guardCommands,
  guardDrops,
  INotebookView,
  notebookView
} from '../roles';
import { ICollabContentProvider } from '../tokens';

/**
 * What a role or a cell lock forbids is disabled before anything is sent: readers get
 * no command that changes cells, non-owners none that deletes, cuts, moves, merges,
 * splits or retypes a locked cell, in menus, toolbars, shortcuts, and drag and drop.
 */
export const editGuardPlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyter-collab:edit-guard',
  description: 'Disables the notebook edits a role or a cell lock forbids.',
  autoStart: true,
  requires: [ICollabContentProvider, INotebookTracker],
  activate: (
    app: JupyterFrontEnd,
    provider: CollabContentProvider,
    tracker: INotebookTracker
  ): void => {
    const viewOf = (panel: NotebookPanel | null): INotebookView | null => {
      const live = panel && provider.documentOf(panel.context.model.sharedModel);
      return live ? notebookView(panel.content, live) : null;
    };
    const tell = (reason: string): void => {
      Notification.info(reason, { autoClose: 4000 });
    };
    guardCommands(
      app.commands,
      id => {
        const view = viewOf(tracker.currentWidget);
        return view && forbiddenEdit(id, view);
      },
      GUARDED_COMMANDS,
      tell
    );
    // toolbars and menus re-read `isEnabled` when told the commands changed
    const refresh = (): void => app.commands.notifyCommandChanged();
    provider.documentChanged.connect(refresh);
    tracker.currentChanged.connect(refresh);
    tracker.activeCellChanged.connect(refresh);
    tracker.selectionChanged.connect(refresh);

    tracker.widgetAdded.connect((_, panel) => {
      const drops = guardDrops(panel.node, panel.content, () => viewOf(panel), tell);
      panel.disposed.connect(() => drops.dispose());
    });
  }
};
