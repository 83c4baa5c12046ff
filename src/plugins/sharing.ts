import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { Clipboard, Dialog, showDialog } from '@jupyterlab/apputils';
import { PathExt } from '@jupyterlab/coreutils';
import { IDocumentManager } from '@jupyterlab/docmanager';
import { IFileBrowserFactory } from '@jupyterlab/filebrowser';

import { sharingAPI } from '../api';
import { CollabContentProvider } from '../provider';
import { SharePanel } from '../sharing';
import { ICollabContentProvider } from '../tokens';

const SHARE = 'jupyter-collab:share';

/**
 * "Share…": a dialog with the people who hold a role on the current document (or the
 * file browser's selection) and its share links. The server lets only owners change
 * them; others see why in the dialog.
 */
export const sharingPlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyter-collab:sharing',
  description: 'Share documents and folders with people and by link.',
  autoStart: true,
  requires: [ICollabContentProvider, IDocumentManager],
  optional: [IFileBrowserFactory],
  activate: (
    app: JupyterFrontEnd,
    provider: CollabContentProvider,
    docManager: IDocumentManager,
    browsers: IFileBrowserFactory | null
  ): void => {
    const api = sharingAPI(app.serviceManager.serverSettings);
    /** What to share: the file browser's selection, or the current document. */
    const target = (args: { source?: unknown }): string | null => {
      if (args.source === 'filebrowser') {
        const selected = browsers?.tracker.currentWidget?.selectedItems().next();
        return selected && !selected.done ? selected.value.path : null;
      }
      const widget = app.shell.currentWidget;
      return (widget && docManager.contextForWidget(widget)?.path) ?? null;
    };
    const liveRole = (): string | null | undefined => {
      const widget = app.shell.currentWidget;
      const context = widget ? docManager.contextForWidget(widget) : undefined;
      return provider.documentOf(context?.model.sharedModel)?.role;
    };
    app.commands.addCommand(SHARE, {
      label: 'Share…',
      caption: 'Give people a role here, or share a link guests can open',
      // in a live document only owners see it; elsewhere the dialog says who may share
      isVisible: args =>
        target(args) !== null &&
        (args.source === 'filebrowser' || [undefined, 'owner'].includes(liveRole() ?? undefined)),
      execute: async args => {
        const path = target(args);
        if (path === null) {
          return;
        }
        const body = new SharePanel({
          path,
          api,
          absoluteUrl: url => new URL(url, window.location.origin).href,
          copy: async text => Clipboard.copyToSystem(text)
        });
        void body.refresh();
        await showDialog({
          title: `Share ${PathExt.basename(path) || 'this server'}`,
          body,
          buttons: [Dialog.okButton({ label: 'Done' })]
        });
      }
    });
    app.contextMenu.addItem({
      command: SHARE,
      args: { source: 'filebrowser' },
      selector: '.jp-DirListing-item[data-isdir]',
      rank: 3
    });
    // one selector per item: Lumino context menus take no comma lists
    for (const selector of ['.jp-Notebook', '.jp-FileEditor']) {
      app.contextMenu.addItem({ command: SHARE, selector, rank: 13 });
    }
  }
};
