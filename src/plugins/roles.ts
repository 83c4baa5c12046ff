import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { MainAreaWidget } from '@jupyterlab/apputils';
import {
  EditorExtensionRegistry,
  IEditorExtensionRegistry
} from '@jupyterlab/codemirror';
import { DocumentRegistry } from '@jupyterlab/docregistry';
import { Widget } from '@lumino/widgets';

import { canEdit } from '../connection';
import { CollabContentProvider, ILiveDocument } from '../provider';
import { readOnlyNotice, readOnlyWhile } from '../roles';
import { ICollabContentProvider } from '../tokens';

/**
 * Makes editors read-only for viewers and commenters (switching live with their role)
 * and tells them why above the document.
 */
export const rolesPlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyter-collab:roles',
  description: 'Read-only editors and a notice for viewers and commenters.',
  autoStart: true,
  requires: [ICollabContentProvider, IEditorExtensionRegistry],
  activate: (
    app: JupyterFrontEnd,
    provider: CollabContentProvider,
    registry: IEditorExtensionRegistry
  ): void => {
    registry.addExtension({
      name: 'jupyter-collab:read-only',
      factory: ({ model }) => {
        const shared = model.sharedModel as { notebook?: unknown };
        const live = () => provider.documentOf(shared.notebook ?? shared);
        if (live() === undefined) {
          return null;
        }
        return EditorExtensionRegistry.createImmutableExtension(
          readOnlyWhile({
            isReadOnly: () => {
              const role = live()?.role;
              return role !== null && role !== undefined && !canEdit(role);
            },
            changed: provider.documentChanged
          })
        );
      }
    });
    const notice = {
      createNew: (widget: Widget, context: DocumentRegistry.IContext<any>) => {
        void context.ready.then(() => showNotice(provider, widget, context));
      }
    };
    app.docRegistry.addWidgetExtension('Notebook', notice);
    app.docRegistry.addWidgetExtension('Editor', notice);
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
