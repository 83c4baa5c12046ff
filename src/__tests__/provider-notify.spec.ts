import { Notification } from '@jupyterlab/apputils';

import { IStaleDocument } from '../provider';
import {
  notifyCoexistence,
  notifyConflict,
  otherCollaborationExtension,
  settleStale
} from '../provider/notify';

// ---------------------------------------------------------------------------
// Notices: another collaboration extension, a stale document

describe('jupyter-collaboration installed too', () => {
  const federated = (...names: string[]) =>
    JSON.stringify(names.map(name => ({ name, load: 'static/remoteEntry.js' })));

  it('finds its labextension in the page config unless it is disabled', () => {
    expect(otherCollaborationExtension(federated('jupyter-collab'))).toBeNull();
    expect(
      otherCollaborationExtension(
        federated('jupyter-collab', '@jupyter/docprovider-extension')
      )
    ).toBe('@jupyter/docprovider-extension');
    expect(
      otherCollaborationExtension(
        federated('@jupyter/docprovider-extension'),
        JSON.stringify(['@jupyter/docprovider-extension'])
      )
    ).toBeNull();
    expect(
      otherCollaborationExtension(
        federated('@jupyter/docprovider-extension'),
        JSON.stringify(['@jupyter/docprovider-extension:rtc'])
      )
    ).toBeNull();
    expect(otherCollaborationExtension('not json')).toBeNull();
  });

  it('shows one warning naming the active extension and how to remove the other', () => {
    const messages: string[] = [];
    const seen = (_: unknown, change: Notification.IChange) => {
      if (change.type === 'added') {
        messages.push(change.notification.message);
      }
    };
    Notification.manager.changed.connect(seen);
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      notifyCoexistence('@jupyter/docprovider-extension');
      expect(messages).toEqual([
        'jupyter-collab is active; jupyter-collaboration is also installed and is not used.'
      ]);
      expect(String(warn.mock.calls[0][0])).toContain(
        'jupyter labextension disable @jupyter/docprovider-extension'
      );
    } finally {
      warn.mockRestore();
      Notification.manager.changed.disconnect(seen);
    }
  });

  it('when the other came first, says jupyter-collab is off and how to switch', () => {
    const messages: string[] = [];
    const seen = (_: unknown, change: Notification.IChange) => {
      if (change.type === 'added') {
        messages.push(change.notification.message);
      }
    };
    Notification.manager.changed.connect(seen);
    const error = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      notifyConflict(
        new Error(
          'Cannot change content provider on factory with an existing provider: rtc'
        )
      );
      expect(messages).toEqual([
        'jupyter-collab is off: jupyter-collaboration serves documents.'
      ]);
    } finally {
      error.mockRestore();
      Notification.manager.changed.disconnect(seen);
    }
  });
});

describe('a stale document', () => {
  const stale: IStaleDocument = {
    path: 'notes.py',
    type: 'file',
    reason: 'the history was rebuilt',
    unsyncedText: 'x = 1\nunsynced words'
  };

  function run(choice: 'copy-and-reload' | 'reload', saveCopy: () => Promise<string>) {
    const steps: string[] = [];
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    const done = settleStale(
      {
        saveCopy: async () => {
          steps.push('copy');
          return saveCopy();
        }
      },
      stale,
      async document => void steps.push(`reopen ${document.path}`),
      async document => {
        steps.push(`ask ${document.unsyncedText?.length}`);
        return choice;
      }
    ).finally(() => warn.mockRestore());
    return { steps, done };
  }

  it('keeps the unsynced text as a copy, then reloads the document', async () => {
    const { steps, done } = run('copy-and-reload', async () => 'notes.py.unsynced-copy.txt');
    expect(await done).toBe('notes.py.unsynced-copy.txt');
    expect(steps).toEqual(['ask 20', 'copy', 'reopen notes.py']);
  });

  it('reloads without a copy only when asked to', async () => {
    const { steps, done } = run('reload', async () => 'never');
    expect(await done).toBeNull();
    expect(steps).toEqual(['ask 20', 'reopen notes.py']);
  });

  it('does not reload when the copy could not be written (it is the only one)', async () => {
    const { steps, done } = run('copy-and-reload', async () => {
      throw new Error('disk full');
    });
    expect(await done).toBeNull();
    expect(steps).toEqual(['ask 20', 'copy']);
  });
});
