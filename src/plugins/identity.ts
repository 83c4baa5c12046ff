import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette, InputDialog, Notification } from '@jupyterlab/apputils';

import {
  canSetDisplayName,
  checkDisplayName,
  IIdentityInfo,
  MAX_DISPLAY_NAME,
  normalizeDisplayName,
  saveDisplayName
} from '../identity/display-name';
import { CollabContentProvider, sharedModelOf } from '../provider';
import { ICollabContentProvider } from '../tokens';

/** The command: a dialog that sets the current user's display name. */
export const SET_DISPLAY_NAME = 'jupyter-collab:set-display-name';

/** A connection that can tell its room a new name (`CollabConnection` can). */
interface INameAnnouncer {
  requestName(displayName: string): boolean;
}

function canAnnounce(connection: unknown): connection is INameAnnouncer {
  return typeof (connection as INameAnnouncer | null)?.requestName === 'function';
}

/**
 * "Set My Display Name…": anyone but a guest names themselves; JupyterLab's identity
 * keeps the name and every open document shows it to the others at once.
 */
export const identityPlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyter-collab:identity',
  description: 'Lets people set the display name others see.',
  autoStart: true,
  requires: [ICollabContentProvider],
  optional: [ICommandPalette],
  activate: (
    app: JupyterFrontEnd,
    provider: CollabContentProvider,
    palette: ICommandPalette | null
  ): void => {
    const { user, serverSettings } = app.serviceManager;
    const info = (): IIdentityInfo | null => {
      const identity = user.identity;
      if (!identity) {
        return null;
      }
      const fields = user.permissions?.updatable_fields;
      return {
        username: identity.username,
        updatableFields: Array.isArray(fields) ? (fields as string[]) : null
      };
    };

    /** Tell every room open in this tab (the server renames them all anyway). */
    const announce = (name: string): void => {
      for (const widget of app.shell.widgets('main')) {
        const connection = provider.connectionOf(sharedModelOf(widget));
        if (canAnnounce(connection)) {
          connection.requestName(name);
        }
      }
    };

    app.commands.addCommand(SET_DISPLAY_NAME, {
      label: 'Set My Display Name…',
      caption: 'Choose the name others see next to your cursor and in Collaborators',
      isEnabled: () => canSetDisplayName(info()),
      execute: async () => {
        const current = info();
        if (!canSetDisplayName(current) || current === null) {
          return;
        }
        const answer = await InputDialog.getText({
          title: 'Set My Display Name',
          label: `The name others see (at most ${MAX_DISPLAY_NAME} characters)`,
          text: user.identity?.display_name ?? '',
          placeholder: 'Your name',
          okLabel: 'Set Name'
        });
        if (!answer.button.accept || answer.value === null) {
          return;
        }
        const name = normalizeDisplayName(answer.value);
        const problem = checkDisplayName(name);
        if (problem !== null) {
          Notification.error(problem, { autoClose: 5000 });
          return;
        }
        if (name === user.identity?.display_name) {
          return;
        }
        try {
          await saveDisplayName(name, current.updatableFields ?? [], serverSettings);
        } catch (error) {
          Notification.error(
            `Your display name was not changed: ${(error as Error).message}`,
            { autoClose: false }
          );
          return;
        }
        await user.refreshUser();
        announce(name);
      }
    });
    palette?.addItem({ command: SET_DISPLAY_NAME, category: 'Collaboration' });
    // the command's enabled state depends on who the user is
    user.userChanged.connect(() => app.commands.notifyCommandChanged(SET_DISPLAY_NAME));
  }
};
