import {
  ILabShell,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette, MainAreaWidget, Notification } from '@jupyterlab/apputils';
import { IDocumentManager } from '@jupyterlab/docmanager';
import { DocumentRegistry, IDocumentWidget } from '@jupyterlab/docregistry';
import { NotebookPanel } from '@jupyterlab/notebook';
import { ISettingRegistry } from '@jupyterlab/settingregistry';

import { IActivityEvent, IPresentingEvent } from '../connection';
import { labelOf } from '../cursors/model';
import { caretOffset, revealCaret } from '../presence';
import { CollabContentProvider, ILiveDocument, sharedModelOf } from '../provider';
import {
  ClassDashboard,
  DocumentActivityItem,
  editorViewOf,
  Follower,
  IFollowView,
  IPersonActivity,
  firstVisibleCell,
  firstVisibleLine,
  markConcurrentCells,
  ScrollPlace,
  ScrollPublisher,
  scrollToLine
} from '../teaching';
import { ICollabContentProvider, ICollabPresence } from '../tokens';

/** Commands of this plugin. */
export const CommandIDs = {
  dashboard: 'jupyter-collab:class-dashboard',
  follow: 'jupyter-collab:follow',
  stopFollowing: 'jupyter-collab:stop-following',
  present: 'jupyter-collab:present'
} as const;

/** What one live document says of itself: its numbers, and who presents it. */
interface IDocumentState {
  activity: IActivityEvent | null;
  presenting: IPresentingEvent | null;
  readonly listeners: Set<() => void>;
}

/**
 * Teaching: the class dashboard (owners), following a person, presenting a notebook to
 * everyone in it, a document's own activity in its toolbar with concurrent-edit markers
 * on its cells, and join and leave notifications (off by default).
 */
export const teachingPlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyter-collab:teaching',
  description: 'Class dashboard, follow and present, document activity.',
  autoStart: true,
  requires: [ICollabContentProvider, ICollabPresence, IDocumentManager],
  optional: [ICommandPalette, ISettingRegistry, ILabShell],
  activate: (
    app: JupyterFrontEnd,
    provider: CollabContentProvider,
    presence: ICollabPresence,
    docManager: IDocumentManager,
    palette: ICommandPalette | null,
    settings: ISettingRegistry | null,
    labShell: ILabShell | null
  ): void => {
    const me = (): string | undefined => app.serviceManager.user.identity?.username;
    const states = new Map<unknown, IDocumentState>();
    const stateOf = (shared: unknown): IDocumentState => {
      let state = states.get(shared);
      if (!state) {
        state = { activity: null, presenting: null, listeners: new Set() };
        states.set(shared, state);
      }
      return state;
    };

    const follower = new Follower({
      presence: presence.model,
      open: (path, type) => openView(docManager, provider, path, type),
      root: app.shell.node
    });
    const presenterBar = new PresenterBar();
    const listened = new Set<unknown>(); // documents whose events are already followed

    // -- per document: activity and presenting events ---------------------------------
    provider.documentChanged.connect((_, live) => {
      const connection = provider.connectionOf(live.model);
      if (connection === null || listened.has(live.model)) {
        return;
      }
      listened.add(live.model);
      const state = stateOf(live.model);
      connection.eventReceived.connect((__, event) => {
        if (event.type === 'activity') {
          state.activity = event;
        } else if (event.type === 'presenting') {
          state.presenting = event;
          onPresenting(live, event);
        } else {
          return;
        }
        state.listeners.forEach(listener => listener());
      });
      live.model.disposed.connect(() => {
        if (presenterBar.live === live) {
          presenterBar.hide();
        }
        states.delete(live.model);
        listened.delete(live.model);
      });
    });

    const onPresenting = (live: ILiveDocument, event: IPresentingEvent): void => {
      const target = follower.target;
      if (event.by === null) {
        if (target?.presenter && target.path === live.path) {
          follower.stop();
        }
        if (presenterBar.live === live) {
          presenterBar.hide();
        }
        return;
      }
      if (event.by.username === me()) {
        presenterBar.show(live, () => {
          void provider.connectionOf(live.model)?.requestPresent(false);
        });
        return;
      }
      follower.start({
        username: event.by.username,
        label: labelOf(event.by),
        clientId: event.client_id,
        path: live.path,
        held: event.hold,
        presenter: true,
        color: event.by.color ?? null
      });
    };

    // -- commands ---------------------------------------------------------------------
    app.commands.addCommand(CommandIDs.follow, {
      label: args => `Follow ${(args.label as string) || (args.username as string) || 'a person'}`,
      caption: 'Keep your view on their document, cell and scroll; any key or click stops it',
      isEnabled: args => typeof args.username === 'string' && args.username !== me(),
      execute: args => {
        const username = args.username as string;
        const entry = [...presence.model.entries.values()].find(
          e => e.user.username === username
        );
        follower.start({
          username,
          label: entry ? labelOf(entry.user) : username,
          clientId: null,
          path: null,
          held: false,
          presenter: false,
          color: entry?.user.color ?? null,
          // start in this document when they are in several; follow them anywhere after
          startPath: typeof args.path === 'string' ? args.path : null
        });
      }
    });
    app.commands.addCommand(CommandIDs.stopFollowing, {
      label: 'Stop Following',
      isEnabled: () => follower.target !== null && !follower.target.held,
      execute: () => follower.stop()
    });

    const current = (): ILiveDocument | undefined =>
      provider.documentOf(sharedModelOf(labShell?.currentWidget ?? null));
    app.commands.addCommand(CommandIDs.present, {
      label: args =>
        presenterBar.live !== null && presenterBar.live === current()
          ? 'Stop Presenting'
          : args.hold
            ? 'Present to Everyone in It (Hold Them)'
            : 'Present to Everyone in It',
      caption: 'Everyone in this document follows your view while you present',
      isEnabled: () => current()?.role === 'owner',
      isToggled: () => presenterBar.live !== null && presenterBar.live === current(),
      execute: args => {
        const live = current();
        const connection = live ? provider.connectionOf(live.model) : null;
        if (!live || !connection) {
          return;
        }
        const on = presenterBar.live !== live;
        if (!connection.requestPresent(on, args.hold === true)) {
          Notification.warning('Not connected: try again once the document is live.');
        }
      }
    });

    let dashboard: MainAreaWidget<ClassDashboard> | null = null;
    app.commands.addCommand(CommandIDs.dashboard, {
      label: 'Class Dashboard',
      caption: 'Everyone on the server: where they are, how they work, who is stuck',
      isEnabled: () => presence.model.owner,
      execute: () => {
        if (dashboard === null || dashboard.isDisposed) {
          const content = new ClassDashboard({
            model: presence.model,
            me,
            onOpen: row => void openRow(row),
            onFollow: username =>
              void app.commands.execute(CommandIDs.follow, { username })
          });
          dashboard = new MainAreaWidget({ content });
          dashboard.id = 'jp-collab-class-dashboard-panel';
          dashboard.title.label = 'Class dashboard';
          dashboard.title.closable = true;
        }
        if (!dashboard.isAttached) {
          app.shell.add(dashboard, 'main');
        }
        app.shell.activateById(dashboard.id);
      }
    });
    const openRow = async (row: IPersonActivity): Promise<void> => {
      const entry = [...presence.model.entries.values()].find(
        e => e.user.username === row.username && e.path === row.path
      );
      if (entry) {
        await presence.goTo(entry);
      } else {
        docManager.openOrReveal(row.path, row.type === 'notebook' ? 'Notebook' : 'Editor');
      }
    };
    if (palette) {
      const category = 'Collaboration';
      palette.addItem({ command: CommandIDs.dashboard, category });
      palette.addItem({ command: CommandIDs.present, category });
      palette.addItem({ command: CommandIDs.present, category, args: { hold: true } });
      palette.addItem({ command: CommandIDs.stopFollowing, category });
    }

    // -- in each document: its numbers, concurrent-edit markers, where one scrolls -----
    const decorate = (panel: IDocumentWidget, context: DocumentRegistry.IContext<any>): void => {
      void context.ready.then(() => {
        const shared = context.model.sharedModel;
        const live = provider.documentOf(shared);
        if (panel.isDisposed || !live) {
          return;
        }
        const state = stateOf(shared);
        const item = new DocumentActivityItem();
        panel.toolbar.addItem('collabActivity', item);
        const notebook = panel instanceof NotebookPanel ? panel.content : null;
        const render = (): void => {
          if (state.activity) {
            item.showActivity(state.activity);
          }
          if (notebook) {
            markConcurrentCells(notebook, state.activity, Date.now() / 1000);
          }
        };
        state.listeners.add(render);
        notebook?.model?.cells.changed.connect(render);
        render();
        const stopScroll = publishScroll(panel, live);
        panel.disposed.connect(() => {
          state.listeners.delete(render);
          stopScroll();
        });
      });
    };
    app.docRegistry.addWidgetExtension('Notebook', { createNew: decorate });
    app.docRegistry.addWidgetExtension('Editor', { createNew: decorate });

    // -- join and leave notifications (a setting, off by default) ----------------------
    let notify = false;
    if (settings) {
      void settings.load(teachingPlugin.id).then(loaded => {
        const read = (): void => {
          notify = loaded.get('joinLeaveNotifications').composite === true;
        };
        loaded.changed.connect(read);
        read();
      });
    }
    // who is where, as last told; `null` until a snapshot after the feed (re)connected,
    // so neither the first snapshot nor a reconnect announces everyone
    let before: Map<string, string> | null = null;
    presence.model.changed.connect(model => {
      if (model.lastChange === 'clear') {
        before = null;
        return;
      }
      const now = new Map<string, string>();
      for (const entry of model.entries.values()) {
        const username = entry.user.username;
        if (username && username !== me()) {
          now.set(`${username}\u0000${entry.path}`, labelOf(entry.user));
        }
      }
      const previous = before;
      before = now;
      if (previous === null || !notify) {
        return;
      }
      for (const text of joinLeaveNotices(previous, now)) {
        Notification.info(text, { autoClose: 5000 });
      }
    });
  }
};

/**
 * The notices for what changed between two sets of people in documents (key
 * `username\0path`, value the label): `Ann joined lesson.ipynb`, `Ann left lesson.ipynb`.
 */
export function joinLeaveNotices(
  before: ReadonlyMap<string, string>,
  after: ReadonlyMap<string, string>
): string[] {
  const name = (key: string): string => key.split('\u0000')[1].split('/').pop() ?? '';
  const notices: string[] = [];
  for (const [key, label] of after) {
    if (!before.has(key)) {
      notices.push(`${label} joined ${name(key)}`);
    }
  }
  for (const [key, label] of before) {
    if (!after.has(key)) {
      notices.push(`${label} left ${name(key)}`);
    }
  }
  return notices;
}

/** Open a document for following, once it is live. */
async function openView(
  docManager: IDocumentManager,
  provider: CollabContentProvider,
  path: string,
  type: 'notebook' | 'file'
): Promise<IFollowView | null> {
  const widget = docManager.openOrReveal(path, type === 'notebook' ? 'Notebook' : 'Editor') as
    | IDocumentWidget
    | undefined;
  if (!widget) {
    return null;
  }
  await widget.context.ready;
  const shared = widget.context.model.sharedModel;
  await provider.connectionOf(shared)?.whenSynced();
  const awareness = provider.documentOf(shared)?.model.awareness;
  if (!awareness) {
    return null;
  }
  if (widget instanceof NotebookPanel) {
    const notebook = widget.content;
    return {
      path,
      awareness,
      showCell: (cell, scroll) => {
        const index = notebook.widgets.findIndex(w => w.model.id === cell);
        if (index >= 0) {
          notebook.activeCellIndex = index;
        }
        // `scrollToItem`, not `scrollToCell`: that one also makes the cell active
        const shown = notebook.widgets.findIndex(w => w.model.id === (scroll ?? cell));
        if (shown >= 0) {
          void notebook.scrollToItem(shown, scroll ? 'start' : 'center');
        }
      },
      showCaret: () => undefined // the cell is shown; their caret is drawn in it
    };
  }
  const editor = (widget.content as { editor?: any }).editor ?? null;
  return {
    path,
    awareness,
    showCell: () => undefined,
    showLine: line => {
      const view = editorViewOf(widget);
      if (view) {
        scrollToLine(view, line);
      }
    },
    showCaret: clientId =>
      revealCaret(editor, caretOffset(awareness, clientId, (shared as any).ysource))
  };
}

/**
 * Publish where one's view of a document is as `scroll` in its awareness (what followers
 * and a presenter's audience scroll to): the first visible cell of a notebook, the first
 * visible line of a text file; throttled, and only when it changed. Returns: stop.
 */
function publishScroll(panel: IDocumentWidget, live: ILiveDocument): () => void {
  const where = (): ScrollPlace | null => {
    if (panel instanceof NotebookPanel) {
      return firstVisibleCell(panel.content);
    }
    const view = editorViewOf(panel);
    return view ? firstVisibleLine(view) : null;
  };
  const publisher = new ScrollPublisher({ awareness: live.model.awareness, where });
  const onScroll = (): void => publisher.schedule();
  // capture: scroll events do not bubble, and the scroller is deep inside the panel
  panel.node.addEventListener('scroll', onScroll, true);
  return () => {
    panel.node.removeEventListener('scroll', onScroll, true);
    publisher.dispose();
  };
}

/** "You are presenting lesson.ipynb · Stop", while one presents. */
class PresenterBar {
  live: ILiveDocument | null = null;

  show(live: ILiveDocument, stop: () => void): void {
    this.live = live;
    this._node.className = 'jp-collab-presenting-bar';
    this._node.dataset.collabPresentingBar = '';
    const text = document.createElement('span');
    text.textContent = `You are presenting ${live.path.split('/').pop()}: everyone in it follows you`;
    const button = document.createElement('button');
    button.className = 'jp-mod-styled jp-collab-follow-stop';
    button.dataset.collabStopPresenting = '';
    button.textContent = 'Stop presenting';
    button.addEventListener('click', stop);
    this._node.replaceChildren(text, button);
    if (!this._node.isConnected) {
      document.body.appendChild(this._node);
    }
  }

  hide(): void {
    this.live = null;
    this._node.remove();
  }

  private readonly _node = document.createElement('div');
}
