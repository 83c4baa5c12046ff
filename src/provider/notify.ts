/**
 * What people see when a live document goes stale: one warning with its ways out.
 */
import { Dialog, Notification, showDialog } from '@jupyterlab/apputils';
import { PathExt } from '@jupyterlab/coreutils';

import { CollabContentProvider, IStaleDocument } from './provider';

/**
 * Warn that `document` must be reloaded, offering to keep its local content as a copy
 * and to reload the page (which opens a fresh session and document).
 */
export function notifyStale(
  provider: CollabContentProvider,
  document: IStaleDocument,
  reload: () => void = () => window.location.reload()
): string {
  const actions: Notification.IAction[] = [];
  if (document.unsyncedText) {
    actions.push({
      label: 'Save a copy',
      caption: 'Write your unsynced content next to the document',
      callback: event => {
        event.preventDefault(); // keep the notification open for "Reload"
        void Notification.promise(provider.saveCopy(document), {
          pending: { message: 'Saving a copy…' },
          success: { message: path => `Your content was saved as ${path}.` },
          error: { message: error => `Could not save a copy: ${String(error)}` }
        });
      }
    });
  }
  actions.push({
    label: 'Reload',
    displayType: 'accent',
    callback: () => reload()
  });
  // Notifications show 140 characters: the server's reason goes to the console.
  console.warn(`jupyter-collab: ${document.path} is stale: ${document.reason}`);
  return Notification.warning(
    `${PathExt.basename(document.path)} must be reloaded: the server reset its history. ` +
      (document.unsyncedText
        ? 'Your latest edits are not shared: save a copy first.'
        : ''),
    { autoClose: false, actions }
  );
}

/**
 * Tell people that another extension already serves documents, so ours does not, and
 * how to pick one. `error` is what setting `contentProviderId` threw.
 */
export function notifyConflict(error: unknown): string {
  const detail = error instanceof Error ? error.message : String(error);
  const other = /existing provider: (\S+)/.exec(detail)?.[1] ?? 'unknown';
  const who = other === 'rtc' ? 'jupyter-collaboration' : `provider '${other}'`;
  const howTo =
    `${who} already serves notebooks and files, so jupyter-collab does not. ` +
    'To use jupyter-collab, run `jupyter labextension disable ' +
    '@jupyter/docprovider-extension` and `jupyter server extension disable ' +
    'jupyter_server_ydoc`. To keep the other, run `jupyter labextension disable ' +
    'jupyter-collab`. Then restart JupyterLab.';
  console.error(`jupyter-collab: ${howTo}`, error);
  return Notification.error(`jupyter-collab is off: ${who} serves documents.`, {
    autoClose: false,
    actions: [
      {
        label: 'How to fix',
        callback: () =>
          void showDialog({
            title: 'Two collaboration extensions',
            body: howTo,
            buttons: [Dialog.okButton()]
          })
      }
    ]
  });
}

/** The labextensions of jupyterlab/jupyter-collaboration that take over documents. */
export const OTHER_COLLABORATION_EXTENSIONS = [
  '@jupyter/docprovider-extension',
  '@jupyter/collaboration-extension'
];

/**
 * The first installed and enabled jupyter-collaboration labextension, from the page
 * config (`federated_extensions`, `disabledExtensions`), or `null`.
 */
export function otherCollaborationExtension(
  federated: string,
  disabled: string = '[]'
): string | null {
  const parse = (text: string): unknown[] => {
    try {
      const value = JSON.parse(text || '[]');
      return Array.isArray(value) ? value : [];
    } catch {
      return [];
    }
  };
  const off = new Set(parse(disabled).map(String));
  for (const extension of parse(federated)) {
    const name = (extension as { name?: unknown })?.name;
    if (
      typeof name === 'string' &&
      OTHER_COLLABORATION_EXTENSIONS.includes(name) &&
      !off.has(name) &&
      ![...off].some(id => id.startsWith(`${name}:`))
    ) {
      return name;
    }
  }
  return null;
}

/**
 * Tell people that jupyter-collab serves documents although jupyter-collaboration's
 * `extension` is installed too, and how to remove the other.
 */
export function notifyCoexistence(extension: string): string {
  const howTo =
    `jupyter-collab serves notebooks and files; jupyter-collaboration (${extension}) ` +
    'is installed too and serves none of them. To remove it, run ' +
    '`pip uninstall jupyter-collaboration`, or disable it with ' +
    `\`jupyter labextension disable ${extension}\` and ` +
    '`jupyter server extension disable jupyter_server_ydoc`; then restart JupyterLab.';
  console.warn(`jupyter-collab: ${howTo}`);
  return Notification.warning(
    'jupyter-collab is active; jupyter-collaboration is also installed and is not used.',
    {
      autoClose: false,
      actions: [
        {
          label: 'How to remove it',
          callback: () =>
            void showDialog({
              title: 'Two collaboration extensions',
              body: howTo,
              buttons: [Dialog.okButton()]
            })
        }
      ]
    }
  );
}
