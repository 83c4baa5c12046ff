import {
  ILabShell,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { DOMUtils, ICommandPalette, MainAreaWidget } from '@jupyterlab/apputils';
import { INotebookTracker } from '@jupyterlab/notebook';
import { Widget } from '@lumino/widgets';

import { historyAPI, HistoryPanel, IHistoryContext } from '../history';
import { CollabContentProvider, ILiveDocument, sharedModelOf } from '../provider';
import { ICollabContentProvider } from '../tokens';

export const SHOW_HISTORY = 'jupyter-collab:history';

/**
 * History: one History panel on the right that follows the current notebook or file
 * editor, read again when the document's room says a version was made; previews and
 * comparisons open in the main area.
 */
export const historyPlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyter-collab:history',
  description: 'The History panel: list, preview, compare, name and restore versions.',
  autoStart: true,
  requires: [ICollabContentProvider],
  optional: [ILabShell, ICommandPalette, INotebookTracker],
  activate: (
    app: JupyterFrontEnd,
    provider: CollabContentProvider,
    labShell: ILabShell | null,
    palette: ICommandPalette | null,
    notebooks: INotebookTracker | null
  ): void => {
    const panel = new HistoryPanel({
      api: historyAPI(app.serviceManager.serverSettings),
      open: view => {
        const widget = new MainAreaWidget({ content: view });
        widget.id = DOMUtils.createDomID(); // the shell refuses widgets without one
        widget.title.label = view.title.label;
        widget.title.caption = view.title.caption;
        widget.title.icon = view.title.icon;
        widget.title.closable = true;
        app.shell.add(widget, 'main', { mode: 'split-right' });
        app.shell.activateById(widget.id);
      }
    });
    panel.id = 'jp-collab-history';
    app.shell.add(panel, 'right', { rank: 650 });

    const contextOf = (live: ILiveDocument): IHistoryContext => ({
      path: live.path,
      type: live.type,
      role: () => live.role
    });
    let shown: ILiveDocument | null = null;
    const follow = (): void => {
      const current: Widget | null = labShell?.currentWidget ?? notebooks?.currentWidget ?? null;
      const live = provider.documentOf(sharedModelOf(current));
      if (live) {
        shown = live;
      }
      const context = panel.context;
      if (!shown || shown.model.isDisposed) {
        shown = null;
        panel.context = null;
      } else if (context?.path !== shown.path || context.type !== shown.type) {
        panel.context = contextOf(shown);
      } else {
        panel.render(); // the role may have changed
      }
    };
    labShell?.currentChanged.connect(follow);
    notebooks?.currentChanged.connect(follow);
    provider.documentChanged.connect(follow); // a role or a path changed

    // a `version` event: read the list again when it is the shown document's
    const listening = new WeakSet<object>();
    provider.documentChanged.connect((_, live) => {
      const connection = provider.connectionOf(live.model);
      if (connection === null || listening.has(live.model)) {
        return;
      }
      listening.add(live.model);
      connection.eventReceived.connect((__, event) => {
        if (event.type === 'version' && shown === live) {
          void panel.refresh();
        }
      });
    });

    app.commands.addCommand(SHOW_HISTORY, {
      label: 'Show Document History',
      caption: 'The versions of the current notebook or file: preview, compare, restore',
      icon: panel.title.icon,
      execute: () => {
        follow();
        app.shell.activateById(panel.id);
      }
    });
    palette?.addItem({ command: SHOW_HISTORY, category: 'Collaboration' });
  }
};
