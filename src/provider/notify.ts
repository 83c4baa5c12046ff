/**
 * What people see when a live document goes stale: one warning with its ways out.
 */
import { Dialog, Notification, showDialog } from '@jupyterlab/apputils';
import { PathExt } from '@jupyterlab/coreutils';

import { CollabContentProvider, IStaleDocument } from './provider';

/** What a person chose when their copy of a document went stale. */
export type StaleChoice = 'copy-and-reload' | 'reload';

/**
 * Ask what to do with a stale document: a modal dialog, since the document cannot be
 * edited meaningfully until it is reloaded. With unsynced edits it offers to keep them
 * as a copy; anything but the explicit "Reload without my edits" keeps them (Escape too).
 */
export async function askAboutStale(document: IStaleDocument): Promise<StaleChoice> {
  const name = PathExt.basename(document.path);
  const discard = 'Reload without my edits';
  const body =
    `The server rebuilt the history of ${name} (for example, its history store was ` +
    'reset), so your copy can no longer be merged into it. It will be reloaded from the ' +
    'server. ' +
    (document.unsyncedText
      ? 'Your latest edits never reached the server: keep them as a copy next to it.'
      : 'You have no unsynced edits.');
  const buttons = document.unsyncedText
    ? [
        Dialog.warnButton({ label: discard }),
        Dialog.okButton({ label: 'Save my edits as a copy and reload' })
      ]
    : [Dialog.okButton({ label: 'Reload' })];
  const result = await showDialog({
    title: `${name} must be reloaded`,
    body,
    buttons,
    hasClose: false
  });
  if (!document.unsyncedText || result.button.label === discard) {
    return 'reload';
  }
  return 'copy-and-reload';
}

/**
 * Settle a stale document: ask (`ask`), keep the unsynced text as a copy if wanted,
 * then reload the document from the server (`reopen` closes and reopens its views,
 * which opens a fresh session with the room's current epoch).
 *
 * Returns:
 *   The path of the copy, or `null` when none was written.
 */
export async function settleStale(
  provider: Pick<CollabContentProvider, 'saveCopy'>,
  document: IStaleDocument,
  reopen: (document: IStaleDocument) => Promise<void>,
  ask: (document: IStaleDocument) => Promise<StaleChoice> = askAboutStale
): Promise<string | null> {
  // Notifications show 140 characters: the server's reason goes to the console.
  console.warn(`jupyter-collab: ${document.path} is stale: ${document.reason}`);
  const choice = await ask(document);
  let copy: string | null = null;
  if (choice === 'copy-and-reload') {
    try {
      copy = await provider.saveCopy(document);
      Notification.success(`Your edits were saved as ${copy}.`, { autoClose: 10000 });
    } catch (error) {
      // keep the stale view: reloading now would lose the only copy of the edits
      Notification.error(`Could not save a copy of ${document.path}: ${String(error)}`, {
        autoClose: false
      });
      return null;
    }
  }
  await reopen(document);
  return copy;
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
