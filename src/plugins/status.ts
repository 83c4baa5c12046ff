import {
  ILabShell,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { IStatusBar } from '@jupyterlab/statusbar';

import { CollabContentProvider, CollabStatus, sharedModelOf } from '../provider';
import { ICollabContentProvider, ICollabPresence } from '../tokens';

/**
 * Shows the current document's connection state and head count in the status bar.
 */
export const statusPlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyter-collab:status',
  description: 'Shows the live document’s connection state in the status bar.',
  autoStart: true,
  requires: [ICollabContentProvider],
  optional: [IStatusBar, ILabShell, ICollabPresence],
  activate: (
    _app: JupyterFrontEnd,
    provider: CollabContentProvider,
    statusBar: IStatusBar | null,
    labShell: ILabShell | null,
    presence: ICollabPresence | null
  ): void => {
    if (!statusBar || !labShell) {
      return;
    }
    const item = new CollabStatus(provider, presence?.headCount ?? null);
    const follow = (): void => {
      item.model = sharedModelOf(labShell.currentWidget);
    };
    labShell.currentChanged.connect(follow);
    provider.documentChanged.connect(follow);
    follow();
    statusBar.registerStatusItem('jupyter-collab:status', {
      item,
      align: 'left',
      rank: 10
    });
  }
};
