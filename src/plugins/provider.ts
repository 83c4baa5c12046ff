import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { Notification } from '@jupyterlab/apputils';
import { PageConfig } from '@jupyterlab/coreutils';
import { IEditorWidgetFactory } from '@jupyterlab/fileeditor';
import { INotebookWidgetFactory } from '@jupyterlab/notebook';
import { Contents, IDefaultDrive } from '@jupyterlab/services';

import { CollabContentProvider, CollabFile, CollabNotebook } from '../provider';
import {
  notifyCoexistence,
  notifyConflict,
  otherCollaborationExtension
} from '../provider/notify';
import { ICollabContentProvider } from '../tokens';

/** The content provider id the widget factories name. */
export const PROVIDER_ID = 'jupyter-collab';

/**
 * Serves notebooks and text files opened in JupyterLab live through our rooms.
 */
export const providerPlugin: JupyterFrontEndPlugin<CollabContentProvider> = {
  id: 'jupyter-collab:provider',
  description: 'Opens notebooks and text files as live shared documents.',
  autoStart: true,
  requires: [IDefaultDrive, INotebookWidgetFactory, IEditorWidgetFactory],
  provides: ICollabContentProvider,
  activate: (
    _app: JupyterFrontEnd,
    drive: Contents.IDrive,
    notebookFactory: { contentProviderId?: string },
    editorFactory: { contentProviderId?: string }
  ): CollabContentProvider => {
    const provider = new CollabContentProvider({
      drive,
      serverSettings: drive.serverSettings
    });
    provider.sharedModelFactory.registerDocumentFactory(
      'notebook',
      () => new CollabNotebook()
    );
    provider.sharedModelFactory.registerDocumentFactory('file', () => new CollabFile());
    if (!drive.contentProviderRegistry) {
      Notification.error('jupyter-collab: this JupyterLab has no content providers.');
      return provider;
    }
    drive.contentProviderRegistry.register(PROVIDER_ID, provider);
    try {
      notebookFactory.contentProviderId = PROVIDER_ID;
      editorFactory.contentProviderId = PROVIDER_ID;
    } catch (error) {
      notifyConflict(error); // the other one came first and serves documents
      return provider;
    }
    const other = otherCollaborationExtension(
      PageConfig.getOption('federated_extensions'),
      PageConfig.getOption('disabledExtensions')
    );
    if (other !== null) {
      notifyCoexistence(other); // ours came first: say so, once
    }
    return provider;
  }
};
