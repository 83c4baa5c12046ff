import { Contents } from '@jupyterlab/services';

import { HeadCount, PresenceModel } from '../presence';
import { CollabStatus, describeState, sharedModelOf } from '../provider';

import { flush, openLive, sessionFor, setup, SYNCED } from './provider-helpers';

// ---------------------------------------------------------------------------
// Live documents follow their room: roles, locked cells, renames

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

// ---------------------------------------------------------------------------
// The status item

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
