import { YFile, YNotebook } from '@jupyter/ydoc';
import { Notification } from '@jupyterlab/apputils';
import { Contents, ServerConnection } from '@jupyterlab/services';
import { Signal } from '@lumino/signaling';

import { DocumentType, ISession } from '../api';
import {
  CollabConnection,
  ConnectionState,
  ICollabConnectionOptions,
  ISavedEvent,
  ServerEvent
} from '../connection';
import { HeadCount, PresenceModel } from '../presence';
import {
  CollabContentProvider,
  CollabSharedModelFactory,
  CollabStatus,
  describeState,
  documentTypeOf,
  IDocumentConnection,
  IStaleDocument,
  sharedModelOf,
  unsyncedCopyPath
} from '../provider';
import {
  notifyCoexistence,
  notifyConflict,
  otherCollaborationExtension,
  settleStale
} from '../provider/notify';

// ---------------------------------------------------------------------------
// Helpers

const settings = ServerConnection.makeSettings({
  baseUrl: 'http://localhost:8888/',
  wsUrl: 'ws://localhost:8888/'
});

function sessionFor(path: string, type: DocumentType): ISession {
  return {
    doc_id: `id-${path}`,
    room: `api/collab/room/id-${path}`,
    epoch: '0123456789abcdef',
    role: 'owner',
    can_execute: true,
    path,
    type
  };
}

/** A connection the test drives: state, events and save answers. */
class FakeConnection implements IDocumentConnection {
  constructor(readonly options: ICollabConnectionOptions) {}

  state: ConnectionState = { status: 'connecting' };
  readonly stateChanged = new Signal<this, ConnectionState>(this);
  readonly eventReceived = new Signal<this, ServerEvent>(this);
  saves = 0;
  disposed = false;
  text: string | null = 'local text';

  setState(state: ConnectionState): void {
    this.state = state;
    this.stateChanged.emit(state);
  }

  locks: [string, boolean][] = [];

  requestLock(cellId: string, locked: boolean): boolean {
    this.locks.push([cellId, locked]);
    return true;
  }

  whenSynced(): Promise<void> {
    if (this.state.status === 'connected' && this.state.synced) {
      return Promise.resolve();
    }
    return new Promise(resolve => {
      const listener = (_: unknown, state: ConnectionState): void => {
        if (state.status === 'connected' && state.synced) {
          this.stateChanged.disconnect(listener);
          resolve();
        }
      };
      this.stateChanged.connect(listener);
    });
  }

  requestSave(): Promise<ISavedEvent> {
    this.saves++;
    return Promise.resolve({
      type: 'saved',
      id: `save-${this.saves}`,
      path: this.options.session.path,
      fingerprint: 'f'
    });
  }

  unsyncedText(): string | null {
    return this.state.status === 'stale' ? this.text : null;
  }

  dispose(): void {
    this.disposed = true;
  }
}

/** A drive that answers with a fixed metadata model and records calls. */
function fakeDrive(hash = 'h1') {
  const calls: { method: string; path: string; options: any }[] = [];
  const state = { hash };
  const drive = {
    get hash(): string {
      return state.hash;
    },
    set hash(value: string) {
      state.hash = value;
    },
    calls,
    get: jest.fn(async (path: string, options?: Contents.IFetchOptions): Promise<Contents.IModel> => {
      calls.push({ method: 'get', path, options });
      return {
        name: path,
        path,
        type: path.endsWith('.ipynb') ? 'notebook' : 'file',
        writable: true,
        created: '',
        last_modified: '2026-01-01T00:00:00Z',
        mimetype: '',
        format: options?.content === false ? null : 'text',
        content: options?.content === false ? null : 'disk content',
        hash: state.hash,
        hash_algorithm: 'sha256'
      } as Contents.IModel;
    }),
    save: jest.fn(async (path: string, options?: Partial<Contents.IModel>) => {
      calls.push({ method: 'save', path, options });
      return { path, name: path } as Contents.IModel;
    }),
    fileChanged: new Signal<any, Contents.IChangedArgs>({})
  };
  return drive;
}

interface ISetup {
  provider: CollabContentProvider;
  drive: ReturnType<typeof fakeDrive>;
  connections: FakeConnection[];
  sessions: { path: string; type: DocumentType }[];
}

function setup(openSession?: (path: string, type: DocumentType) => Promise<ISession>): ISetup {
  const drive = fakeDrive();
  const connections: FakeConnection[] = [];
  const sessions: { path: string; type: DocumentType }[] = [];
  const provider = new CollabContentProvider({
    drive,
    serverSettings: settings,
    openSession:
      openSession ??
      (async (path, type) => {
        sessions.push({ path, type });
        return sessionFor(path, type);
      }),
    connect: options => {
      const connection = new FakeConnection(options);
      connections.push(connection);
      return connection;
    }
  });
  provider.sharedModelFactory.registerDocumentFactory('notebook', () => new YNotebook());
  provider.sharedModelFactory.registerDocumentFactory('file', () => new YFile());
  return { provider, drive, connections, sessions };
}

function openLive(
  s: ISetup,
  path: string,
  contentType: Contents.ContentType = 'file'
): YFile | YNotebook {
  const model = s.provider.sharedModelFactory.createNew({
    path,
    format: contentType === 'notebook' ? 'json' : 'text',
    contentType,
    collaborative: true
  });
  if (!model) {
    throw new Error('no model');
  }
  return model as YFile | YNotebook;
}

const flush = (): Promise<void> => new Promise(resolve => setTimeout(resolve, 0));

const SYNCED: ConnectionState = { status: 'connected', synced: true };

// ---------------------------------------------------------------------------
// The shared-model factory

describe('CollabSharedModelFactory', () => {
  it('maps notebooks and files to session types, nothing else', () => {
    expect(documentTypeOf('notebook')).toBe('notebook');
    expect(documentTypeOf('file')).toBe('file');
    expect(documentTypeOf('directory')).toBeNull();
  });

  it('is collaborative and creates live models only when it should', () => {
    const created: string[] = [];
    const factory = new CollabSharedModelFactory((_, path) => created.push(path));
    factory.registerDocumentFactory('file', () => new YFile());
    expect(factory.collaborative).toBe(true);
    const base = { path: 'a.py', format: 'text' as const, contentType: 'file' };
    expect(factory.createNew({ ...base, collaborative: false })).toBeUndefined();
    expect(factory.createNew({ ...base, format: null, collaborative: true })).toBeUndefined();
    expect(
      factory.createNew({ ...base, contentType: 'directory', collaborative: true })
    ).toBeUndefined();
    // No document class registered for notebooks.
    expect(
      factory.createNew({ ...base, contentType: 'notebook', collaborative: true })
    ).toBeUndefined();
    expect(created).toEqual([]);
    const model = factory.createNew({ ...base, collaborative: true });
    expect(model).toBeInstanceOf(YFile);
    expect(created).toEqual(['a.py']);
  });

  it('refuses a second document class for a type', () => {
    const factory = new CollabSharedModelFactory(() => undefined);
    factory.registerDocumentFactory('file', () => new YFile());
    expect(() => factory.registerDocumentFactory('file', () => new YFile())).toThrow(
      /registered already/
    );
  });
});

// ---------------------------------------------------------------------------
// The content provider

describe('CollabContentProvider', () => {
  it('opens a session of the right type and connects the model’s doc and awareness', async () => {
    const s = setup();
    const notebook = openLive(s, 'n.ipynb', 'notebook');
    const file = openLive(s, 'f.py', 'file');
    await flush();
    expect(s.sessions).toEqual([
      { path: 'n.ipynb', type: 'notebook' },
      { path: 'f.py', type: 'file' }
    ]);
    expect(s.connections[0].options.ydoc).toBe(notebook.ydoc);
    expect(s.connections[0].options.awareness).toBe(notebook.awareness);
    expect(s.connections[0].options.serverSettings).toBe(settings);
    expect(s.connections[1].options.ydoc).toBe(file.ydoc);
    expect(s.provider.connectionOf(file)).toBe(s.connections[1]);
    expect(s.provider.documentOf(file)?.path).toBe('f.py');
  });

  it('get() with content waits for the sync, then returns metadata with content null', async () => {
    const s = setup();
    openLive(s, 'f.py');
    await flush();
    let result: Contents.IModel | undefined;
    const pending = s.provider
      .get('f.py', { type: 'file', format: 'text', content: true, hash: true, contentProviderId: 'jupyter-collab' })
      .then(model => (result = model));
    await flush();
    expect(result).toBeUndefined();
    s.connections[0].setState(SYNCED);
    await pending;
    expect(result?.content).toBeNull();
    expect(result?.hash).toBe('h1');
    expect(s.drive.calls).toEqual([
      { method: 'get', path: 'f.py', options: { content: false, hash: true } }
    ]);
  });

  it('passes other calls to the drive without the provider id (no loop)', async () => {
    const s = setup();
    const model = await s.provider.get('other.txt', {
      content: true,
      contentProviderId: 'jupyter-collab'
    });
    expect(model.content).toBe('disk content');
    expect(s.drive.calls[0].options).toEqual({ content: true });
    await s.provider.save('other.txt', {
      content: 'x',
      contentProviderId: 'jupyter-collab'
    });
    expect(s.drive.calls[1]).toEqual({
      method: 'save',
      path: 'other.txt',
      options: { content: 'x' }
    });
  });

  it('falls back to the drive when the session call fails', async () => {
    const s = setup(() => Promise.reject(new Error('409')));
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    openLive(s, 'f.py');
    const model = await s.provider.get('f.py', { content: true });
    expect(model.content).toBe('disk content');
    warn.mockRestore();
  });

  it('save() asks the room to save, returns the hash and emits fileChanged', async () => {
    const s = setup();
    const file = openLive(s, 'f.py');
    await flush();
    s.connections[0].setState(SYNCED);
    file.dirty = true;
    const changes: Contents.IChangedArgs[] = [];
    s.provider.fileChanged.connect((_, change) => changes.push(change));
    s.drive.hash = 'h2';
    const saved = await s.provider.save('f.py', { content: 'ignored' });
    expect(s.connections[0].saves).toBe(1);
    expect(s.drive.save).not.toHaveBeenCalled();
    expect(saved.hash).toBe('h2');
    expect(changes).toHaveLength(1);
    expect(changes[0].type).toBe('save');
    expect(changes[0].newValue?.hash).toBe('h2');
    expect(file.dirty).toBe(false);
  });

  it('emits fileChanged with the fresh hash when the server broadcasts a save', async () => {
    const s = setup();
    const file = openLive(s, 'f.py');
    await flush();
    file.dirty = true;
    const changes: Contents.IChangedArgs[] = [];
    s.provider.fileChanged.connect((_, change) => changes.push(change));
    s.drive.hash = 'h3';
    s.connections[0].eventReceived.emit({
      type: 'saved',
      id: null,
      path: 'f.py',
      fingerprint: 'x'
    });
    await flush();
    expect(changes.map(c => [c.type, c.newValue?.path, c.newValue?.hash])).toEqual([
      ['save', 'f.py', 'h3']
    ]);
    expect(file.dirty).toBe(false);
  });

  it('announces a new disk hash before the pre-save check returns it', async () => {
    const s = setup();
    openLive(s, 'f.py');
    await flush();
    s.connections[0].setState(SYNCED);
    await s.provider.get('f.py', { content: true, hash: true });
    const changes: Contents.IChangedArgs[] = [];
    s.provider.fileChanged.connect((_, change) => changes.push(change));
    // Unchanged file: nothing to announce.
    await s.provider.get('f.py', { content: false, hash: true });
    expect(changes).toHaveLength(0);
    // Another program wrote the file; the room merged it.
    s.drive.hash = 'h9';
    const model = await s.provider.get('f.py', {
      content: false,
      hash: true,
      contentProviderId: 'jupyter-collab'
    });
    expect(model.hash).toBe('h9');
    expect(changes.map(c => [c.type, c.newValue?.hash])).toEqual([['save', 'h9']]);
    expect(s.drive.calls[s.drive.calls.length - 1].options).toEqual({
      content: false,
      hash: true
    });
  });

  it('reports a stale document with its unsynced text, and saves a copy', async () => {
    const s = setup();
    openLive(s, 'dir/f.py');
    openLive(s, 'n.ipynb', 'notebook');
    await flush();
    const stale: IStaleDocument[] = [];
    s.provider.documentStale.connect((_, document) => stale.push(document));
    s.connections[0].setState({
      status: 'stale',
      epoch: null,
      docId: null,
      reason: 'The server has another history.'
    });
    expect(stale).toEqual([
      {
        path: 'dir/f.py',
        type: 'file',
        reason: 'The server has another history.',
        unsyncedText: 'local text'
      }
    ]);
    const copy = await s.provider.saveCopy(stale[0]);
    expect(copy).toBe('dir/f.py.unsynced-copy.txt');
    expect(s.drive.save).toHaveBeenCalledWith('dir/f.py.unsynced-copy.txt', {
      type: 'file',
      format: 'text',
      content: 'local text'
    });
    expect(unsyncedCopyPath('n.ipynb', 'notebook')).toBe('n.unsynced-copy.ipynb');
  });

  it('serializes a notebook’s cells as its unsynced text', async () => {
    const s = setup();
    const notebook = openLive(s, 'n.ipynb', 'notebook') as YNotebook;
    // @jupyter/ydoc warns about reading a cell's text before it joins the document.
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    notebook.insertCell(0, { cell_type: 'code', source: 'print(1)' });
    warn.mockRestore();
    await flush();
    const text = s.connections[0].options.snapshot?.(notebook.ydoc) ?? '';
    expect(JSON.parse(text).cells[0].source).toBe('print(1)');
  });

  it('keeps a notebook and its file view of one path apart', async () => {
    const s = setup();
    openLive(s, 'n.ipynb', 'notebook');
    const asFile = openLive(s, 'n.ipynb', 'file');
    await flush();
    s.connections.forEach(c => c.setState(SYNCED));
    await s.provider.save('n.ipynb', { type: 'file', format: 'text', content: '' });
    expect(s.connections.map(c => c.saves)).toEqual([0, 1]);
    asFile.dispose();
    await s.provider.save('n.ipynb', { type: 'notebook', format: 'json', content: {} });
    expect(s.connections.map(c => c.saves)).toEqual([1, 1]);
    expect(s.drive.save).not.toHaveBeenCalled();
  });

  it('disposes the connection with the model', async () => {
    const s = setup();
    const file = openLive(s, 'f.py');
    await flush();
    file.dispose();
    expect(s.connections[0].disposed).toBe(true);
    expect(s.provider.documentOf(file)).toBeUndefined();
    // The path is served by the drive again.
    const model = await s.provider.get('f.py', { content: true });
    expect(model.content).toBe('disk content');
  });

  it('builds a real CollabConnection by default', async () => {
    const provider = new CollabContentProvider({
      drive: fakeDrive(),
      serverSettings: settings,
      openSession: async (path, type) => sessionFor(path, type)
    });
    provider.sharedModelFactory.registerDocumentFactory('file', () => new YFile());
    // No socket in jest: y-websocket only connects on `connect()`; stub it.
    const connect = jest
      .spyOn(CollabConnection.prototype, 'connect')
      .mockImplementation(() => undefined);
    const model = provider.sharedModelFactory.createNew({
      path: 'f.py',
      format: 'text',
      contentType: 'file',
      collaborative: true
    }) as YFile;
    await flush();
    const connection = provider.connectionOf(model) as CollabConnection;
    expect(connection).toBeInstanceOf(CollabConnection);
    expect(connection.ydoc).toBe(model.ydoc);
    expect(connection.provider.awareness).toBe(model.awareness);
    expect(connection.provider.url).toBe(
      'ws://localhost:8888/api/collab/room/id-f.py?epoch=0123456789abcdef'
    );
    provider.dispose();
    expect(connection.isDisposed).toBe(true);
    connect.mockRestore();
  });
});

// ---------------------------------------------------------------------------
// The status item

describe('roles', () => {
  it('takes the role from the session, follows role events, and reports refusals', async () => {
    const s = setup(async (path, type) => ({ ...sessionFor(path, type), role: 'viewer' }));
    const file = openLive(s, 'f.py');
    await flush();
    const live = s.provider.documentOf(file)!;
    expect(live.role).toBe('viewer');
    const changed: (string | null)[] = [];
    s.provider.documentChanged.connect((_, d) => changed.push(d.role));

    const roleChanges: string[] = [];
    s.provider.roleChanged.connect((_, c) => roleChanges.push(`${c.path} ${c.from}>${c.to}`));

    s.connections[0].eventReceived.emit({ type: 'role', role: 'editor' });
    expect(live.role).toBe('editor');
    expect(changed).toEqual(['editor']);
    s.connections[0].eventReceived.emit({ type: 'role', role: 'editor' }); // not a change
    expect(roleChanges).toEqual(['f.py viewer>editor']);

    const refused: string[] = [];
    s.provider.documentRefused.connect((_, d) => refused.push(`${d.path}: ${d.reason}`));
    s.connections[0].setState({
      status: 'closed',
      code: 4403,
      reason: 'forbidden',
      serverReason: 'viewers cannot edit f.py'
    });
    expect(refused).toEqual(['f.py: viewers cannot edit f.py']);
  });

  it('keeps the locked cells from locks events', async () => {
    const s = setup();
    const nb = openLive(s, 'n.ipynb', 'notebook');
    await flush();
    const live = s.provider.documentOf(nb)!;
    expect([...live.locked]).toEqual([]);
    s.connections[0].eventReceived.emit({ type: 'locks', cells: ['a', 'b'] });
    expect([...live.locked]).toEqual(['a', 'b']);
    s.connections[0].eventReceived.emit({ type: 'locks', cells: ['b'] });
    expect([...live.locked]).toEqual(['b']);
  });

  it('reads an unknown role as viewer', async () => {
    const s = setup(async (path, type) => ({ ...sessionFor(path, type), role: 'admin' }));
    const file = openLive(s, 'f.py');
    await flush();
    expect(s.provider.documentOf(file)?.role).toBe('viewer');
  });
});

describe('renames', () => {
  it('a renamed file (or folder) keeps its live document under the new path', async () => {
    const s = setup();
    const file = openLive(s, 'lessons/week1/f.py');
    const other = openLive(s, 'other.py');
    await flush();
    s.connections.forEach(c => c.setState(SYNCED));
    const changed: string[] = [];
    s.provider.documentChanged.connect((_, live) => changed.push(live.path));

    s.drive.fileChanged.emit({
      type: 'rename',
      oldValue: { path: 'lessons' },
      newValue: { path: 'course' } as Contents.IModel
    });

    expect(s.provider.documentOf(file)?.path).toBe('course/week1/f.py');
    expect(s.provider.documentOf(other)?.path).toBe('other.py');
    expect(changed).toEqual(['course/week1/f.py']);
    await s.provider.save('course/week1/f.py', { type: 'file' });
    expect(s.connections[0].saves).toBe(1); // through the room, not the drive
    expect(s.drive.calls.filter(c => c.method === 'save')).toEqual([]);
    // the old path is an ordinary file again (someone may create it anew)
    await s.provider.save('lessons/week1/f.py', { type: 'file', content: 'x' });
    expect(s.drive.calls.filter(c => c.method === 'save').map(c => c.path)).toEqual([
      'lessons/week1/f.py'
    ]);
  });

  it('a rename made by someone else (a renamed event) is announced on the drive', async () => {
    const s = setup();
    const file = openLive(s, 'f.py');
    await flush();
    const heard: Contents.IChangedArgs[] = [];
    s.drive.fileChanged.connect((_, change) => heard.push(change));

    s.connections[0].eventReceived.emit({ type: 'renamed', path: 'g.py' });
    await flush();

    expect(heard.map(c => [c.type, c.oldValue?.path, c.newValue?.path])).toEqual([
      ['rename', 'f.py', 'g.py']
    ]);
    expect(heard[0].newValue?.hash).toBe('h1'); // the metadata of the new path
    expect(s.provider.documentOf(file)?.path).toBe('g.py');
    // our own rename comes back as an event too: nothing more happens
    s.connections[0].eventReceived.emit({ type: 'renamed', path: 'g.py' });
    await flush();
    expect(heard).toHaveLength(1);
  });

  it('ignores saves, deletes and renames of other files', async () => {
    const s = setup();
    const file = openLive(s, 'f.py');
    await flush();
    for (const change of [
      { type: 'save', oldValue: null, newValue: { path: 'f.py' } },
      { type: 'delete', oldValue: { path: 'f.py' }, newValue: null },
      { type: 'rename', oldValue: { path: 'f' }, newValue: { path: 'g' } },
      { type: 'rename', oldValue: { path: 'f.py' }, newValue: null }
    ] as Contents.IChangedArgs[]) {
      s.drive.fileChanged.emit(change);
    }
    expect(s.provider.documentOf(file)?.path).toBe('f.py');
  });
});

describe('CollabStatus', () => {
  it('shows the current live document’s state and head count', async () => {
    const s = setup();
    const file = openLive(s, 'f.py');
    await flush();
    const status = new CollabStatus(s.provider);
    expect(status.text).toBe('');
    status.model = sharedModelOf({ context: { model: { sharedModel: file } } });
    expect(status.text).toBe('connecting · 1 here');
    s.connections[0].setState(SYNCED);
    expect(status.node.textContent).toBe('connected · 1 here');
    expect(status.node.dataset.status).toBe('connected');
    status.model = sharedModelOf({});
    expect(status.isHidden).toBe(true);
    status.dispose();
  });

  it('shows the head count the Collaborators panel shows, when there is one', async () => {
    const s = setup();
    const file = openLive(s, 'f.py');
    await flush();
    const model = new PresenceModel();
    const headCount = new HeadCount(model);
    headCount.path = 'f.py';
    const status = new CollabStatus(s.provider, headCount);
    status.model = sharedModelOf({ context: { model: { sharedModel: file } } });
    s.connections[0].setState(SYNCED);
    const person = (id: string, username: string, path: string) => ({
      id,
      client_id: null,
      user: { username },
      path,
      type: 'file' as const,
      cell: null,
      cell_index: null,
      idle: false,
      role: 'editor'
    });
    model.apply({
      type: 'snapshot',
      people: [
        person('1', 'alice', 'f.py'),
        person('2', 'alice', 'f.py'),
        person('3', 'bob', 'f.py'),
        person('4', 'carol', 'g.py')
      ]
    });
    expect(status.node.textContent).toBe('connected · 2 here · 3 on server');
    expect(status.text.endsWith(headCount.text)).toBe(true);
    status.dispose();
  });

  it('names the states', () => {
    expect(describeState(null)).toBe('connecting');
    expect(describeState({ status: 'connected', synced: false })).toBe('syncing');
    expect(describeState({ status: 'offline', attempts: 3 })).toBe('offline');
  });
});

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
