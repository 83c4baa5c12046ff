import { YFile, YNotebook } from '@jupyter/ydoc';
import { Contents } from '@jupyterlab/services';

import { CollabConnection } from '../connection';
import {
  CollabContentProvider,
  CollabSharedModelFactory,
  documentTypeOf,
  IStaleDocument,
  unsyncedCopyPath
} from '../provider';

import {
  fakeDrive,
  flush,
  openLive,
  sessionFor,
  settings,
  setup,
  SYNCED
} from './provider-helpers';

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
