import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { INotebookTracker } from '@jupyterlab/notebook';

import { keepPlace } from '../notebook';
import { CollabContentProvider } from '../provider';
import { ICollabContentProvider } from '../tokens';

/**
 * People stay in their cell (and at their cursor) when someone else moves, inserts or
 * deletes cells in a live notebook.
 */
export const placePlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyter-collab:keep-place',
  description: 'Keeps the active cell and cursor in place when others move cells.',
  autoStart: true,
  requires: [ICollabContentProvider, INotebookTracker],
  activate: (
    _app: JupyterFrontEnd,
    provider: CollabContentProvider,
    tracker: INotebookTracker
  ): void => {
    tracker.widgetAdded.connect((_, panel) => {
      const live = provider.documentOf(panel.context.model.sharedModel);
      if (!live) {
        return;
      }
      const place = keepPlace(panel.content, live.model.ydoc);
      panel.disposed.connect(() => place.dispose());
    });
  }
};
