import {
  ILabShell,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { CodeEditor } from '@jupyterlab/codeeditor';
import { EditorExtensionRegistry, IEditorExtensionRegistry } from '@jupyterlab/codemirror';
import { IEditorTracker } from '@jupyterlab/fileeditor';
import { IDocumentManager } from '@jupyterlab/docmanager';
import { DocumentRegistry } from '@jupyterlab/docregistry';
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { Signal } from '@lumino/signaling';
import { Widget } from '@lumino/widgets';

import * as Y from 'yjs';

import {
  CellCommentBadges,
  commentHighlight,
  commentIcon,
  CommentsModel,
  CommentsPanel,
  ICommentsContext,
  IPerson,
  rangeAnchor
} from '../comments';
import { ICommentThread } from '../connection';
import { labelOf, readUser } from '../cursors/model';
import { CollabContentProvider, sharedModelOf } from '../provider';
import { sharingAPI } from '../api';
import { ICollabComments, ICollabContentProvider } from '../tokens';
import { SHOW_THREAD } from './presence';

export const COMMENT_CELL = 'jupyter-collab:comment-cell';
export const COMMENT_SELECTION = 'jupyter-collab:comment-selection';
const SHOW_COMMENTS = 'jupyter-collab:show-comments';

/**
 * Comments: a model per live document (made with its connection, so the threads the
 * room sends after the first sync are not missed), the Comments panel following the
 * current document, a badge on cells with open threads, and the "Comment on Cell"
 * command in the cell toolbar, the cell context menu and on Accel Shift M.
 */
export const commentsPlugin: JupyterFrontEndPlugin<ICollabComments> = {
  id: 'jupyter-collab:comments',
  description: 'Comment threads on cells and text, with a Comments panel.',
  autoStart: true,
  requires: [
    ICollabContentProvider,
    IDocumentManager,
    IRenderMimeRegistry,
    INotebookTracker,
    IEditorExtensionRegistry
  ],
  optional: [ILabShell, ICommandPalette, IEditorTracker],
  provides: ICollabComments,
  activate: (
    app: JupyterFrontEnd,
    provider: CollabContentProvider,
    docManager: IDocumentManager,
    rendermime: IRenderMimeRegistry,
    notebooks: INotebookTracker,
    editorRegistry: IEditorExtensionRegistry,
    labShell: ILabShell | null,
    palette: ICommandPalette | null,
    fileEditors: IEditorTracker | null
  ): ICollabComments => {
    const { user } = app.serviceManager;
    const models = new Map<unknown, CommentsModel>();
    const modelChanged = new Signal<ICollabComments, unknown>({} as ICollabComments);
    const tracker: ICollabComments = {
      modelOf: shared => models.get(shared) ?? null,
      modelChanged
    };

    provider.documentChanged.connect((_, live) => {
      const connection = provider.connectionOf(live.model);
      if (connection === null || models.has(live.model)) {
        return;
      }
      const model = new CommentsModel({
        connection,
        username: user.identity?.username ?? '',
        key: live.path
      });
      models.set(live.model, model);
      live.model.disposed.connect(() => {
        models.delete(live.model);
        model.dispose();
        modelChanged.emit(live.model);
      });
      modelChanged.emit(live.model);
      follow();
    });

    // names of the people seen in live documents (awareness), to show and @mention them
    const names = new Map<string, string>();
    const people = (): IPerson[] => {
      // this person: their own awareness state may not carry the name others see
      const me = user.identity;
      if (me?.username && !names.has(me.username)) {
        names.set(me.username, labelOf(me));
      }
      for (const shared of models.keys()) {
        const states = provider.documentOf(shared)?.model.awareness.getStates();
        for (const state of states?.values() ?? []) {
          const person = readUser(state);
          if (person?.username) {
            names.set(person.username, labelOf(person));
          }
        }
      }
      return [...names].map(([username, label]) => ({ username, label }));
    };
    // who may be mentioned in the current document: the people in it now, and the
    // memberships on it when this person may list them (the server has the last word)
    const members = new Map<string, string[]>();
    // read again each time the panel turns to a document: roles change meanwhile
    const loadMembers = (path: string): void => {
      sharingAPI(app.serviceManager.serverSettings)
        .members(path)
        .then(answer => members.set(path, answer.members.map(m => m.principal)))
        .catch(() => {
          // no right to list them (or offline): the people present are offered alone
        });
    };
    const mentionable = (): IPerson[] => {
      const context = panel.context;
      const live = provider.documentOf(sharedModelOf(shown));
      if (!context || !live) {
        return [];
      }
      const me = user.identity?.username;
      const label = new Map(people().map(p => [p.username, p.label]));
      const here = [...live.model.awareness.getStates().values()]
        .map(state => readUser(state)?.username)
        .filter((u): u is string => !!u);
      const usernames = new Set([...here, ...(members.get(context.path) ?? [])]);
      usernames.delete(me ?? '');
      return [...usernames].map(username => ({
        username,
        label: label.get(username) ?? username
      }));
    };
    const panel = new CommentsPanel({ rendermime, people, mentionable });
    panel.id = 'jp-collab-comments';
    app.shell.add(panel, 'right', { rank: 600 });

    const contextOf = (widget: Widget | null): ICommentsContext | null => {
      const shared = sharedModelOf(widget);
      const live = provider.documentOf(shared);
      const model = models.get(shared);
      if (!live || !model || !widget) {
        return null;
      }
      return {
        model,
        get path() {
          return live.path;
        },
        role: () => live.role,
        jump: thread => void jumpTo(app, widget, thread)
      };
    };
    let shown: Widget | null = null;
    const follow = (): void => {
      const current = labShell?.currentWidget ?? notebooks.currentWidget;
      if (current && sharedModelOf(current) !== null) {
        shown = current;
      }
      const context = contextOf(shown);
      if (context?.model !== panel.context?.model) {
        if (context) {
          loadMembers(context.path);
        }
        panel.context = context;
      } else {
        panel.render();
      }
    };
    labShell?.currentChanged.connect(follow);
    provider.documentChanged.connect(follow); // a role or a path changed

    const showThread = (threadId: string): void => {
      app.shell.activateById(panel.id);
      follow();
      panel.showThread(threadId);
    };

    // ranges highlighted in every editor of a live document
    editorRegistry.addExtension({
      name: 'jupyter-collab:comment-ranges',
      factory: ({ model }) => {
        const shared = model.sharedModel as {
          notebook?: unknown;
          getId?: () => string;
          ysource?: Y.Text;
        };
        const document = shared.notebook ?? shared;
        if (!shared.ysource || provider.documentOf(document) === undefined) {
          return null;
        }
        return EditorExtensionRegistry.createImmutableExtension(
          commentHighlight({
            ytext: shared.ysource,
            cellId: shared.notebook ? shared.getId?.() : undefined,
            model: () => models.get(document) ?? null,
            modelChanged,
            show: showThread
          })
        );
      }
    });

    app.docRegistry.addWidgetExtension('Notebook', {
      createNew: (notebook: NotebookPanel, context: DocumentRegistry.IContext<any>) => {
        void context.ready.then(() => {
          const model = models.get(context.model.sharedModel);
          const cells = notebook.content.model?.cells;
          if (!model || !cells || notebook.isDisposed) {
            return;
          }
          const badges = new CellCommentBadges(
            {
              get widgets() {
                return notebook.content.widgets;
              },
              cellsChanged: cells.changed
            },
            model,
            showThread
          );
          notebook.disposed.connect(() => badges.dispose());
        });
      }
    });

    const activeCell = () => {
      const notebook = notebooks.currentWidget;
      const cell = notebook?.content.activeCell;
      const live = provider.documentOf(notebook?.context.model.sharedModel);
      return notebook && cell && live ? { notebook, cell, live } : null;
    };
    app.commands.addCommand(COMMENT_CELL, {
      label: 'Comment on Cell',
      caption: 'Start a comment thread on this cell',
      icon: commentIcon,
      isEnabled: () => {
        const role = activeCell()?.live.role;
        return role !== undefined && role !== null && role !== 'viewer';
      },
      execute: () => {
        const target = activeCell();
        if (!target) {
          return;
        }
        app.shell.activateById(panel.id);
        shown = target.notebook;
        follow();
        panel.compose(
          { kind: 'cell', cell_id: target.cell.model.id },
          target.cell.model.sharedModel.getSource()
        );
      }
    });
    // the selected text of the current notebook cell or file editor
    const selection = () => {
      const notebook = notebooks.currentWidget;
      const current = labShell?.currentWidget ?? notebook;
      let widget: Widget | null = null;
      let editor: CodeEditor.IEditor | null | undefined;
      let ytext: Y.Text | undefined;
      let cellId: string | undefined;
      if (notebook && current === notebook) {
        const cell = notebook.content.activeCell;
        widget = notebook;
        editor = cell?.editor;
        ytext = (cell?.model.sharedModel as { ysource?: Y.Text } | undefined)?.ysource;
        cellId = cell?.model.id;
      } else if (fileEditors?.currentWidget && current === fileEditors.currentWidget) {
        widget = fileEditors.currentWidget;
        editor = fileEditors.currentWidget.content.editor;
        ytext = (widget as any).context.model.sharedModel.ysource as Y.Text | undefined;
      }
      const live = provider.documentOf(sharedModelOf(widget));
      if (!widget || !editor || !ytext || !live) {
        return null;
      }
      const range = editor.getSelection();
      const a = editor.getOffsetAt(range.start);
      const b = editor.getOffsetAt(range.end);
      const [from, to] = a <= b ? [a, b] : [b, a];
      return from < to ? { widget, live, ytext, cellId, from, to } : null;
    };
    app.commands.addCommand(COMMENT_SELECTION, {
      label: 'Comment on Selection',
      caption: 'Start a comment thread on the selected text, or suggest a change to it',
      icon: commentIcon,
      isEnabled: () => {
        const target = selection();
        const role = target?.live.role;
        return !!target && role !== null && role !== undefined && role !== 'viewer';
      },
      execute: () => {
        const target = selection();
        if (!target) {
          return;
        }
        app.shell.activateById(panel.id);
        shown = target.widget;
        follow();
        panel.compose(
          rangeAnchor(target.ytext, target.from, target.to, target.cellId),
          target.ytext.toString().slice(target.from, target.to)
        );
      }
    });
    app.contextMenu.addItem({
      command: COMMENT_SELECTION,
      selector: '.jp-Notebook .jp-Cell .cm-editor',
      rank: 10
    });
    app.contextMenu.addItem({
      command: COMMENT_SELECTION,
      selector: '.jp-FileEditor',
      rank: 10
    });
    // one selector per binding: Lumino refuses a selector list
    for (const selector of ['.jp-Notebook .jp-Cell .cm-editor', '.jp-FileEditor .cm-editor']) {
      app.commands.addKeyBinding({ command: COMMENT_SELECTION, keys: ['Accel Alt M'], selector });
    }

    app.commands.addCommand(SHOW_THREAD, {
      label: 'Show Comment Thread',
      execute: async args => {
        const path = String(args.path ?? '');
        const thread = String(args.thread ?? '');
        if (path) {
          const live = [...models.keys()]
            .map(shared => provider.documentOf(shared))
            .find(doc => doc?.path === path);
          if (!live) {
            const widget = docManager.openOrReveal(path);
            await widget?.context.ready;
            shown = widget ?? shown;
          } else {
            shown = [...(labShell?.widgets('main') ?? [])].find(
              w => sharedModelOf(w) === live.model
            ) ?? shown;
          }
        }
        app.shell.activateById(panel.id);
        follow();
        panel.showThread(thread);
      }
    });
    app.commands.addCommand(SHOW_COMMENTS, {
      label: 'Show Comments',
      execute: () => app.shell.activateById(panel.id)
    });
    app.contextMenu.addItem({
      command: COMMENT_CELL,
      selector: '.jp-Notebook .jp-Cell',
      rank: 11
    });
    app.commands.addKeyBinding({
      command: COMMENT_CELL,
      keys: ['Accel Shift M'],
      selector: '.jp-Notebook'
    });
    palette?.addItem({ command: COMMENT_CELL, category: 'Notebook Cell Operations' });
    palette?.addItem({ command: SHOW_COMMENTS, category: 'Collaboration' });
    return tracker;
  }
};

/** Show a thread's place: its document, then its cell. */
async function jumpTo(
  app: JupyterFrontEnd,
  widget: Widget,
  thread: ICommentThread
): Promise<void> {
  app.shell.activateById(widget.id);
  if (!(widget instanceof NotebookPanel)) {
    return;
  }
  const notebook = widget.content;
  const index = notebook.widgets.findIndex(cell => cell.model.id === thread.anchor.cell_id);
  if (index < 0) {
    return;
  }
  notebook.activeCellIndex = index;
  await notebook.scrollToCell(notebook.widgets[index], 'center');
}
