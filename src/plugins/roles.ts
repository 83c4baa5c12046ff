import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette, MainAreaWidget, Notification } from '@jupyterlab/apputils';
import {
  EditorExtensionRegistry,
  IEditorExtensionRegistry
} from '@jupyterlab/codemirror';
import { DocumentRegistry } from '@jupyterlab/docregistry';
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import { Widget } from '@lumino/widgets';

import { canEdit } from '../connection';
import { CollabContentProvider, ILiveDocument } from '../provider';
import { readOnlyNotice, readOnlyWhile, renderLocks, RoleNotices } from '../roles';
import { ICollabContentProvider } from '../tokens';

const TOGGLE_LOCK = 'jupyter-collab:toggle-cell-lock';

/**
 * Roles and cell locks in the UI: read-only editors for viewers and commenters (and
 * for everyone but owners in locked cells), switched live; a notice above documents
 * people may not edit; a notification when one's role changes; lock icons; and the
 * owners' "Lock Cell" command.
 */
export const rolesPlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyter-collab:roles',
  description: 'Read-only editors, cell locks and a notice for viewers and commenters.',
  autoStart: true,
  requires: [ICollabContentProvider, IEditorExtensionRegistry, INotebookTracker],
  optional: [ICommandPalette],
  activate: (
    app: JupyterFrontEnd,
    provider: CollabContentProvider,
    registry: IEditorExtensionRegistry,
    tracker: INotebookTracker,
    palette: ICommandPalette | null
  ): void => {
    registry.addExtension({
      name: 'jupyter-collab:read-only',
      factory: ({ model }) => {
        const shared = model.sharedModel as { notebook?: unknown; getId?: () => string };
        const live = () => provider.documentOf(shared.notebook ?? shared);
        if (live() === undefined) {
          return null;
        }
        const cellId = shared.notebook ? shared.getId?.() : undefined;
        return EditorExtensionRegistry.createImmutableExtension(
          readOnlyWhile({
            isReadOnly: () => {
              const document = live();
              const role = document?.role;
              if (!role) {
                return false; // not known yet: the server still refuses what it must
              }
              const locked = cellId !== undefined && document.locked.has(cellId);
              return !canEdit(role) || (locked && role !== 'owner');
            },
            changed: provider.documentChanged
          })
        );
      }
    });

    // a guest (or anyone) whose role an owner changed is told, once per change
    const roleNotices = new RoleNotices({
      show: message => void Notification.info(message, { autoClose: 10000 })
    });
    provider.roleChanged.connect((_, change) => roleNotices.add(change.path, change.to));

    const notice = {
      createNew: (widget: Widget, context: DocumentRegistry.IContext<any>) => {
        void context.ready.then(() => showNotice(provider, widget, context));
      }
    };
    app.docRegistry.addWidgetExtension('Notebook', notice);
    app.docRegistry.addWidgetExtension('Editor', notice);
    app.docRegistry.addWidgetExtension('Notebook', {
      createNew: (panel: NotebookPanel, context: DocumentRegistry.IContext<any>) => {
        noKernelUnlessAllowed(provider, panel);
        void context.ready.then(() => showLocks(provider, panel));
      }
    });

    const current = (): { live: ILiveDocument; cellId: string } | null => {
      const panel = tracker.currentWidget;
      const cell = panel?.content.activeCell;
      const live = provider.documentOf(panel?.context.model.sharedModel);
      return live && cell ? { live, cellId: cell.model.id } : null;
    };
    app.commands.addCommand(TOGGLE_LOCK, {
      label: () => {
        const target = current();
        return target?.live.locked.has(target.cellId) ? 'Unlock Cell' : 'Lock Cell';
      },
      caption: 'Owners only: a locked cell is read-only for everyone else',
      isVisible: () => current()?.live.role === 'owner',
      execute: async () => {
        const target = current();
        if (!target) {
          return;
        }
        const connection = await target.live.connection;
        connection.requestLock(target.cellId, !target.live.locked.has(target.cellId));
      }
    });
    app.contextMenu.addItem({
      command: TOGGLE_LOCK,
      selector: '.jp-Notebook .jp-Cell',
      rank: 12
    });
    palette?.addItem({ command: TOGGLE_LOCK, category: 'Notebook Cell Operations' });
  }
};

/** A line above a live document saying it is read-only for this user, and why. */
function showNotice(
  provider: CollabContentProvider,
  widget: Widget,
  context: DocumentRegistry.IContext<any>
): void {
  const document = provider.documentOf(context.model.sharedModel);
  if (!document || !(widget instanceof MainAreaWidget) || widget.isDisposed) {
    return;
  }
  const banner = new Widget();
  banner.addClass('jp-collab-readonly-notice');
  widget.contentHeader.addWidget(banner);
  const render = (_: unknown, changed: ILiveDocument): void => {
    if (changed !== document) {
      return;
    }
    const text = readOnlyNotice(document.role);
    banner.node.textContent = text ?? '';
    banner.node.dataset.role = document.role ?? '';
    banner.setHidden(text === null);
  };
  render(null, document);
  provider.documentChanged.connect(render);
  widget.disposed.connect(() => provider.documentChanged.disconnect(render));
}

/**
 * Readers (and editors where executing is off) may not start kernels: the server would
 * refuse, and JupyterLab would show "Error Starting Kernel". The session answer arrives
 * before the notebook finishes loading, hence before its session context starts one.
 */
function noKernelUnlessAllowed(provider: CollabContentProvider, panel: NotebookPanel): void {
  const live = provider.documentOf(panel.context.model.sharedModel);
  void live?.connection
    .then(() => {
      if (!live.canExecute) {
        panel.sessionContext.kernelPreference = {
          ...panel.sessionContext.kernelPreference,
          shouldStart: false,
          canStart: false,
          autoStartDefault: false
        };
      }
    })
    .catch(() => undefined); // not live: JupyterLab's usual behaviour
}

/** Lock icons on the locked cells of a live notebook, kept current. */
function showLocks(provider: CollabContentProvider, panel: NotebookPanel): void {
  const document = provider.documentOf(panel.context.model.sharedModel);
  const notebook = panel.content;
  if (!document || panel.isDisposed || !notebook.model) {
    return;
  }
  const render = (): void =>
    renderLocks(notebook.widgets, document.locked, document.role === 'owner');
  const onDocument = (_: unknown, changed: ILiveDocument): void => {
    if (changed === document) {
      render();
    }
  };
  // new cell widgets (inserted, or re-created on a type change) need their icon too
  const onCells = (): void => void requestAnimationFrame(render);
  provider.documentChanged.connect(onDocument);
  notebook.model.cells.changed.connect(onCells);
  render();
  panel.disposed.connect(() => {
    provider.documentChanged.disconnect(onDocument);
  });
}
