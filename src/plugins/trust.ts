import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { DocumentRegistry } from '@jupyterlab/docregistry';
import { INotebookModel, NotebookPanel } from '@jupyterlab/notebook';
import { Doc } from 'yjs';

import { RemoteTrustGuard, untrustCell } from '../trust';

/**
 * Trust is never collaborative: in every notebook, outputs a collaborator wrote are
 * shown untrusted until this person trusts them, and a cell marked `trusted` by
 * someone else arrives untrusted (see `../trust`).
 */
export const trustPlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyter-collab:trust',
  description: "Shows collaborators' outputs as untrusted until you trust them.",
  autoStart: true,
  activate: (app: JupyterFrontEnd): void => {
    const guarded = new WeakSet<INotebookModel>();
    app.docRegistry.addWidgetExtension('Notebook', {
      createNew: (_panel: NotebookPanel, context: DocumentRegistry.IContext<INotebookModel>) => {
        const model = context.model;
        const doc = (model.sharedModel as { ydoc?: unknown }).ydoc;
        if (guarded.has(model) || !(doc instanceof Doc)) {
          return; // one guard per model, however many views show it
        }
        guarded.add(model);
        const guard = new RemoteTrustGuard({
          doc,
          untrust: cellId => {
            for (const cell of model.cells) {
              if (cell.id === cellId) {
                untrustCell(cell);
              }
            }
          }
        });
        context.disposed.connect(() => guard.dispose());
      }
    });
  }
};
