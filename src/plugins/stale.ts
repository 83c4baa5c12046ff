import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { Notification } from '@jupyterlab/apputils';
import { PathExt } from '@jupyterlab/coreutils';
import { IDocumentManager } from '@jupyterlab/docmanager';

import { CollabContentProvider, IStaleDocument } from '../provider';
import { settleStale } from '../provider/notify';
import { refusalNotice } from '../roles';
import { ICollabContentProvider } from '../tokens';

/**
 * When the server rebuilt a document's history, asks what to do with the unsynced
 * edits and reloads the document in place (its tabs close and reopen on a fresh copy);
 * when it refused a change this user's role does not allow, says so and reloads it.
 */
export const stalePlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyter-collab:stale',
  description: 'Reloads documents whose history the server rebuilt.',
  autoStart: true,
  requires: [ICollabContentProvider, IDocumentManager],
  activate: (
    app: JupyterFrontEnd,
    provider: CollabContentProvider,
    docManager: IDocumentManager
  ): void => {
    const close = (document: IStaleDocument): void => {
      const views = [...app.shell.widgets('main')].filter(
        widget => docManager.contextForWidget(widget)?.path === document.path
      );
      for (const view of views) {
        const context = docManager.contextForWidget(view);
        if (context) {
          context.model.dirty = false; // its edits are in the copy, or were declined
        }
        view.dispose();
      }
    };
    const reopen = async (document: IStaleDocument): Promise<void> => {
      close(document);
      docManager.openOrReveal(
        document.path,
        document.type === 'notebook' ? 'Notebook' : 'Editor'
      );
    };
    provider.documentRefused.connect((_, document) => {
      const name = PathExt.basename(document.path);
      if (/^access removed/.test(document.reason)) {
        // an owner took this person's role away (or their share link ended): reopening
        // would only meet "Forbidden"; close the document and say so
        Notification.warning(`Your access to ${name} ended: an owner removed it.`, {
          autoClose: false
        });
        close(document);
        return;
      }
      // the server closed us after refusing a change our role does not allow: only a
      // fresh copy matches the room again
      // the full reason goes to the console; the notice is one short sentence
      console.warn(`jupyter-collab: a change to ${document.path} was refused: ${document.reason}`);
      Notification.warning(refusalNotice(name, document.reason, document.cellNumber), {
        autoClose: 10000
      });
      void reopen(document);
    });
    provider.documentStale.connect((_, document) => {
      void settleStale(provider, document, reopen).catch(error =>
        console.error(`jupyter-collab: could not reload ${document.path}:`, error)
      );
    });
  }
};
