import {
  ILabShell,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { IDocumentManager } from '@jupyterlab/docmanager';
import { DocumentRegistry, IDocumentWidget } from '@jupyterlab/docregistry';
import { NotebookPanel } from '@jupyterlab/notebook';
import { Notification } from '@jupyterlab/apputils';
import { usersIcon } from '@jupyterlab/ui-components';

import {
  caretOffset,
  CellPresenceMarkers,
  CollaboratorsPanel,
  HeadCount,
  IPresenceEntry,
  PresenceFeed,
  PresenceModel,
  revealCaret,
  revealInNotebook
} from '../presence';
import { labelOf } from '../cursors/model';
import { CollabContentProvider, sharedModelOf } from '../provider';
import { ICollabContentProvider, ICollabPresence } from '../tokens';
import { SET_DISPLAY_NAME } from './identity';

/** The comments plugin's command that shows one thread (`path`, `thread`). */
export const SHOW_THREAD = 'jupyter-collab:show-thread';

/**
 * The Collaborators panel (everyone on the server, where they are, who is idle), the
 * head count it shares with the status bar, and the per-cell markers of who is in which
 * notebook cell.
 */
export const presencePlugin: JupyterFrontEndPlugin<ICollabPresence> = {
  id: 'jupyter-collab:presence',
  description: 'Shows who is connected, in which document and cell.',
  autoStart: true,
  requires: [ICollabContentProvider, IDocumentManager],
  optional: [ILabShell],
  provides: ICollabPresence,
  activate: (
    app: JupyterFrontEnd,
    provider: CollabContentProvider,
    docManager: IDocumentManager,
    labShell: ILabShell | null
  ): ICollabPresence => {
    const { serverSettings, user } = app.serviceManager;
    const model = new PresenceModel();
    new PresenceFeed({ model, serverSettings });
    const headCount = new HeadCount(model);
    // someone mentioned this person, or replied in their thread: wherever they are
    model.noticed.connect((_, notice) => {
      const what = notice.kind === 'mention' ? 'mentioned you' : 'replied';
      const who = [...model.entries.values()].find(e => e.user.username === notice.by);
      const by = who ? labelOf(who.user) : notice.by.startsWith('guest:') ? 'A guest' : notice.by;
      const excerpt = notice.excerpt.length > 80 ? `${notice.excerpt.slice(0, 80)}…` : notice.excerpt;
      Notification.info(`${by} ${what} in ${notice.path}: ${excerpt}`, {
        autoClose: 10000,
        actions: [
          {
            label: 'Show',
            callback: () =>
              void app.commands.execute(SHOW_THREAD, { path: notice.path, thread: notice.thread })
          }
        ]
      });
    });
    const open = (entry: IPresenceEntry): void =>
      void goTo(docManager, provider, entry).catch(error =>
        console.warn(`jupyter-collab: could not open ${entry.path}:`, error)
      );
    if (labShell) {
      const follow = (): void => {
        const live = provider.documentOf(sharedModelOf(labShell.currentWidget));
        headCount.path = live?.path ?? null;
      };
      labShell.currentChanged.connect(follow);
      provider.documentChanged.connect(follow); // opened, renamed, closed
      follow();
    }
    const panel = new CollaboratorsPanel({
      model,
      headCount,
      me: () => user.identity?.username,
      onOpen: entry => open(entry),
      onMe: entry =>
        app.commands.isEnabled(SET_DISPLAY_NAME)
          ? void app.commands.execute(SET_DISPLAY_NAME)
          : open(entry),
      meCaption: () =>
        app.commands.isEnabled(SET_DISPLAY_NAME) ? 'Set your display name' : ''
    });
    panel.id = 'jp-collab-people';
    panel.title.icon = usersIcon;
    app.shell.add(panel, 'left', { rank: 400 });
    void user.ready.then(() => panel.render());

    app.docRegistry.addWidgetExtension('Notebook', {
      createNew: (notebookPanel: NotebookPanel, context: DocumentRegistry.IContext<any>) => {
        void context.ready.then(() => markCells(provider, notebookPanel));
      }
    });
    return { model, headCount, goTo: entry => goTo(docManager, provider, entry) };
  }
};

/** Attach cell markers to a notebook served live; they go with the panel. */
function markCells(provider: CollabContentProvider, panel: NotebookPanel): void {
  const notebook = panel.content;
  const shared = notebook.model?.sharedModel;
  const live = provider.documentOf(shared);
  if (panel.isDisposed || !notebook.model || !live) {
    return;
  }
  const cells = notebook.model.cells;
  const markers = new CellPresenceMarkers(
    {
      get widgets() {
        return notebook.widgets;
      },
      get activeCell() {
        return notebook.activeCell;
      },
      activeCellChanged: notebook.activeCellChanged,
      cellsChanged: cells.changed
    },
    live.model.awareness
  );
  panel.disposed.connect(() => markers.dispose());
}

/** Open `entry`'s document, then select their cell and reveal their caret. */
async function goTo(
  docManager: IDocumentManager,
  provider: CollabContentProvider,
  entry: IPresenceEntry
): Promise<void> {
  const factory = entry.type === 'notebook' ? 'Notebook' : 'Editor';
  const widget = docManager.openOrReveal(entry.path, factory) as
    | IDocumentWidget
    | undefined;
  if (!widget) {
    return;
  }
  await widget.context.ready;
  const shared = widget.context.model.sharedModel;
  await provider.connectionOf(shared)?.whenSynced();
  const awareness = provider.documentOf(shared)?.model.awareness;
  if (!awareness) {
    return;
  }
  if (widget instanceof NotebookPanel) {
    await revealInNotebook(widget.content as any, awareness, entry);
    return;
  }
  const content = widget.content as { editor?: any };
  revealCaret(
    content.editor ?? null,
    caretOffset(awareness, entry.client_id, (shared as any).ysource)
  );
}
