import { ServerConnection } from '@jupyterlab/services';
import { Signal } from '@lumino/signaling';
import {
  applyAwarenessUpdate,
  Awareness,
  encodeAwarenessUpdate
} from 'y-protocols/awareness';
import * as Y from 'yjs';

import { encodeCursorRange } from '../cursors';
import {
  caretOffset,
  CellPresenceMarkers,
  cellVisitors,
  CollaboratorsPanel,
  countHeads,
  describeHeadCount,
  describePlace,
  HeadCount,
  IPresenceEntry,
  MARKER_CLASS,
  parsePresenceMessage,
  PresenceFeed,
  presenceUrl,
  PresenceModel,
  renderMarker,
  revealInNotebook
} from '../presence';

// ---------------------------------------------------------------------------
// Helpers

const ALICE = {
  username: 'alice',
  display_name: 'Alice Liddell',
  initials: 'AL',
  color: '#1f77b4'
};
const BOB = { username: 'bob', display_name: 'Bob Dylan', initials: 'BD', color: '#d62728' };

function entry(
  id: string,
  user: Record<string, unknown>,
  more: Partial<IPresenceEntry> = {}
): IPresenceEntry {
  return {
    id,
    client_id: 1,
    user,
    path: 'lesson.ipynb',
    type: 'notebook',
    cell: null,
    cell_index: null,
    idle: false,
    role: 'editor',
    ...more
  } as IPresenceEntry;
}

/** A collaborator's awareness, with the user the server would stamp. */
function peer(user: Record<string, unknown>): { doc: Y.Doc; awareness: Awareness } {
  const doc = new Y.Doc();
  const awareness = new Awareness(doc);
  awareness.setLocalStateField('user', user);
  return { doc, awareness };
}

/** Deliver `from`'s awareness state to `to`, as the room would. */
function relay(from: Awareness, to: Awareness): void {
  applyAwarenessUpdate(to, encodeAwarenessUpdate(from, [from.clientID]), 'remote');
}

// ---------------------------------------------------------------------------

describe('parsePresenceMessage', () => {
  it('reads snapshots and updates from JSON text', () => {
    const snapshot = parsePresenceMessage(
      JSON.stringify({ type: 'snapshot', people: [entry('d/1', ALICE)] })
    );
    expect(snapshot).toEqual({
      type: 'snapshot',
      people: [entry('d/1', { ...ALICE, name: undefined, avatar_url: null })],
      owner: false
    });
    const update = parsePresenceMessage({
      type: 'update',
      set: [{ ...entry('d/2', BOB), cell: 'c1', cell_index: 4 }],
      gone: ['d/1']
    });
    expect(update.type === 'update' && update.set[0].cell_index).toBe(4);
  });

  it('rejects what is not a feed message', () => {
    for (const bad of [
      { type: 'snapshot' },
      { type: 'update', set: [], gone: [3] },
      { type: 'snapshot', people: [{ id: 'x', path: 'a', type: 'pdf', user: ALICE }] },
      { type: 'snapshot', people: [{ id: 'x', path: 'a', type: 'file' }] },
      'null'
    ]) {
      expect(() => parsePresenceMessage(bad)).toThrow(TypeError);
    }
  });
});

describe('PresenceModel', () => {
  it('groups connections by person, lists me first, then active before idle', () => {
    const model = new PresenceModel();
    const changes: number[] = [];
    model.changed.connect(() => changes.push(model.entries.size));
    model.apply({
      type: 'snapshot',
      people: [
        entry('a/1', ALICE, { idle: true }),
        entry('b/1', BOB, { idle: true }),
        entry('b/2', BOB, { path: 'notes.py', type: 'file' }),
        entry('c/1', { username: 'carol', display_name: 'Carol' }, { idle: true })
      ]
    });

    const people = model.people('carol');
    expect(people.map(p => [p.username, p.idle])).toEqual([
      ['carol', true],
      ['bob', false],
      ['alice', true]
    ]);
    expect(people[1].places.map(p => p.path)).toEqual(['notes.py', 'lesson.ipynb']);
    expect(people[0].initials).toBe('C');
    expect(changes).toEqual([4]);
  });

  it('applies updates: set replaces, gone removes; clear empties', () => {
    const model = new PresenceModel();
    model.apply({ type: 'snapshot', people: [entry('a/1', ALICE), entry('b/1', BOB)] });
    model.apply({
      type: 'update',
      set: [entry('a/1', ALICE, { cell: 'c2', cell_index: 1 })],
      gone: ['b/1']
    });
    expect([...model.entries.keys()]).toEqual(['a/1']);
    expect(describePlace(model.entries.get('a/1')!)).toBe('lesson.ipynb · cell 2');
    model.clear();
    expect(model.people()).toEqual([]);
  });

  it('never shows an unsafe colour or avatar', () => {
    const model = new PresenceModel();
    model.apply({
      type: 'snapshot',
      people: [
        entry('m/1', {
          username: 'mallory',
          color: 'red;background:url(x)',
          avatar_url: 'javascript:alert(1)'
        })
      ]
    });
    const [mallory] = model.people();
    expect(mallory.color).toBe('var(--jp-brand-color1)');
    expect(mallory.avatarUrl).toBeNull();
  });
});

describe('cellVisitors', () => {
  it('maps cells to the others in them, once per person, never me', () => {
    const states = new Map<number, unknown>([
      [1, { user: ALICE, cell: 'c1' }],
      [2, { user: BOB, cell: 'c1' }],
      [3, { user: BOB, cell: 'c1' }], // bob's second tab
      [4, { user: { username: 'carol' }, cell: 'c2' }],
      [5, { user: { username: 'dan' }, cell: 42 }],
      [6, { cell: 'c3' }] // no user: not stamped by the server
    ]);
    const visitors = cellVisitors(states, 1);
    expect([...visitors.keys()]).toEqual(['c1', 'c2']);
    expect(visitors.get('c1')!.map(v => [v.username, v.initials, v.color])).toEqual([
      ['bob', 'BD', '#d62728']
    ]);
    expect(visitors.get('c2')![0].label).toBe('carol');
  });
});

describe('CellPresenceMarkers', () => {
  function fakeNotebook(ids: string[]) {
    const activeCellChanged = new Signal<any, any>({});
    const cellsChanged = new Signal<any, any>({});
    const notebook = {
      widgets: ids.map(id => ({ model: { id }, node: document.createElement('div') })),
      activeCell: null as { model: { id: string }; node: HTMLElement } | null,
      activeCellChanged,
      cellsChanged,
      activate(index: number) {
        notebook.activeCell = notebook.widgets[index];
        activeCellChanged.emit(notebook.activeCell);
      }
    };
    return notebook;
  }

  it('publishes my cell in command mode too, and shows who is in each cell', () => {
    const me = peer(ALICE);
    const bob = peer(BOB);
    const notebook = fakeNotebook(['c1', 'c2']);
    const markers = new CellPresenceMarkers(notebook, me.awareness);

    notebook.activate(1); // selecting a cell, no editor focus needed
    expect(me.awareness.getLocalState()?.cell).toBe('c2');

    bob.awareness.setLocalStateField('cell', 'c1');
    relay(bob.awareness, me.awareness);
    relay(me.awareness, me.awareness);
    markers.render();
    const marker = notebook.widgets[0].node.querySelector(`.${MARKER_CLASS}`)!;
    expect(marker.textContent).toBe('BD');
    expect(marker.getAttribute('title')).toBe('Bob Dylan is in this cell');
    expect((marker.firstChild as HTMLElement).style.backgroundColor).toBe(
      'rgb(214, 39, 40)'
    );
    expect(notebook.widgets[1].node.querySelector(`.${MARKER_CLASS}`)).toBeNull();

    bob.awareness.setLocalStateField('cell', 'c2');
    relay(bob.awareness, me.awareness);
    markers.render();
    expect(notebook.widgets[0].node.querySelector(`.${MARKER_CLASS}`)).toBeNull();
    expect(notebook.widgets[1].node.textContent).toBe('BD');

    markers.dispose();
    expect(notebook.widgets[1].node.querySelector(`.${MARKER_CLASS}`)).toBeNull();
    expect(me.awareness.getLocalState()?.cell).toBeNull();
    notebook.activate(0);
    expect(me.awareness.getLocalState()?.cell).toBeNull(); // no longer listening
  });
});

describe('renderMarker', () => {
  it('redraws a marker when its person is renamed', () => {
    const cell = { model: { id: 'c1' }, node: document.createElement('div') };
    const visitor = {
      clientId: 1,
      username: 'alice',
      label: 'Alice Liddell',
      initials: 'AL',
      color: '#2977b2'
    };
    renderMarker(cell, [visitor]);
    expect(cell.node.textContent).toBe('AL');
    renderMarker(cell, [{ ...visitor, label: 'Ms Smith', initials: 'MS' }]);
    expect(cell.node.textContent).toBe('MS');
    expect(cell.node.querySelector(`.${MARKER_CLASS}`)!.getAttribute('title')).toContain(
      'Ms Smith'
    );
  });
});

describe('CollaboratorsPanel', () => {
  it('lists people with initials, places and idle state; a click opens the place', () => {
    const model = new PresenceModel();
    const opened: IPresenceEntry[] = [];
    const headCount = new HeadCount(model);
    headCount.path = 'lesson.ipynb';
    const panel = new CollaboratorsPanel({
      model,
      headCount,
      me: () => 'alice',
      onOpen: e => opened.push(e)
    });
    expect(panel.node.textContent).toContain('Nobody has a shared document open.');

    const bobs = entry('b/1', BOB, { cell: 'c3', cell_index: 2, client_id: 7 });
    model.apply({
      type: 'snapshot',
      people: [entry('a/1', ALICE), bobs, entry('c/1', { username: 'carol' }, { idle: true })]
    });

    const rows = Array.from(
      panel.node.querySelectorAll<HTMLElement>('.jp-collab-person')
    );
    expect(rows.map(r => r.querySelector('.jp-collab-person-name')!.textContent)).toEqual([
      'Alice Liddell (you)',
      'Bob Dylan',
      'carol'
    ]);
    expect(rows[1].querySelector('.jp-collab-avatar')!.textContent).toBe('BD');
    expect(rows[1].querySelector('.jp-collab-place')!.textContent).toBe(
      'lesson.ipynb · cell 3'
    );
    expect(rows[1].querySelector('.jp-collab-role')!.textContent).toBe('editor');
    expect(rows[2].dataset.idle).toBe('true');
    expect(rows[2].querySelector('.jp-collab-person-idle')!.textContent).toBe('idle');
    expect(panel.node.querySelector('.jp-collab-headcount')!.textContent).toBe(
      '3 here · 3 on server'
    );

    (rows[1].querySelector('.jp-collab-place') as HTMLElement).click();
    (rows[1].querySelector('.jp-collab-person-row') as HTMLElement).click();
    expect(opened).toEqual([bobs, bobs]);
    panel.dispose();
  });

  it('sends a click on one’s own entry to `onMe`, with its caption', () => {
    const model = new PresenceModel();
    const mine: IPresenceEntry[] = [];
    const panel = new CollaboratorsPanel({
      model,
      headCount: new HeadCount(model),
      me: () => 'alice',
      onOpen: () => {
        throw new Error('not for one’s own entry');
      },
      onMe: e => mine.push(e),
      meCaption: () => 'Set your display name'
    });
    const alices = entry('a/1', ALICE);
    model.apply({ type: 'snapshot', people: [alices] });
    const row = panel.node.querySelector<HTMLElement>('.jp-collab-person-row')!;
    expect(row.title).toBe('Set your display name');
    row.click();
    expect(mine).toEqual([alices]);
    // initials in black or white, whichever reads better on the person's colour
    expect(panel.node.querySelector<HTMLElement>('.jp-collab-avatar')!.style.color).toBe(
      'rgb(255, 255, 255)'
    );
    panel.dispose();
  });
});

describe('head count', () => {
  it('counts people, not connections, here and on the whole server', () => {
    const model = new PresenceModel();
    model.apply({
      type: 'snapshot',
      people: [
        entry('a/1', ALICE),
        entry('a/2', ALICE), // a second tab
        entry('a/3', ALICE, { path: 'notes.py', type: 'file' }),
        entry('b/1', BOB, { idle: true }),
        entry('c/1', { username: 'carol' }, { path: 'other.ipynb' }),
        entry('d/1', { username: 'dan' }, { path: 'other.ipynb' })
      ]
    });
    expect(countHeads(model, 'lesson.ipynb')).toEqual({ here: 2, onServer: 4 });
    expect(countHeads(model, 'notes.py')).toEqual({ here: 1, onServer: 4 });
    expect(countHeads(model, 'nobody.ipynb')).toEqual({ here: 0, onServer: 4 });
    expect(countHeads(model, null)).toEqual({ here: null, onServer: 4 });
    expect(describeHeadCount({ here: 2, onServer: 4 })).toBe('2 here · 4 on server');
    expect(describeHeadCount({ here: null, onServer: 4 })).toBe('4 on server');
  });

  it('follows the feed and the current document, and says when the numbers change', () => {
    const model = new PresenceModel();
    const count = new HeadCount(model);
    let changes = 0;
    count.changed.connect(() => changes++);
    expect(count.text).toBe('0 on server');

    count.path = 'lesson.ipynb';
    expect([count.text, changes]).toEqual(['0 here · 0 on server', 1]);
    model.apply({ type: 'snapshot', people: [entry('a/1', ALICE), entry('b/1', BOB)] });
    expect([count.text, changes]).toEqual(['2 here · 2 on server', 2]);
    model.apply({ type: 'update', set: [entry('a/2', ALICE)], gone: [] });
    expect(changes).toBe(2); // a second tab of alice's: nothing to say
    model.apply({
      type: 'update',
      set: [entry('b/1', BOB, { path: 'notes.py', type: 'file' })],
      gone: []
    });
    expect([count.text, changes]).toEqual(['1 here · 2 on server', 3]);
    count.dispose();
  });
});

describe('PresenceFeed', () => {
  /** A WebSocket the test drives. */
  class FakeSocket {
    static made: FakeSocket[] = [];
    constructor(readonly url: string) {
      FakeSocket.made.push(this);
    }
    onmessage: ((event: { data: string }) => void) | null = null;
    onclose: ((event: { code: number; reason: string }) => void) | null = null;
    closed = false;
    close(): void {
      this.closed = true;
    }
  }

  beforeEach(() => {
    FakeSocket.made = [];
    jest.useFakeTimers();
  });
  afterEach(() => jest.useRealTimers());

  const settings = ServerConnection.makeSettings({
    baseUrl: 'http://localhost:8888/',
    wsUrl: 'ws://localhost:8888/',
    WebSocket: FakeSocket as any
  });

  it('feeds the model, empties it when the socket drops, and reconnects', () => {
    const model = new PresenceModel();
    const feed = new PresenceFeed({ model, serverSettings: settings, minDelayMs: 100 });
    const [first] = FakeSocket.made;
    expect(first.url).toBe('ws://localhost:8888/api/collab/presence');
    first.onmessage!({
      data: JSON.stringify({ type: 'snapshot', people: [entry('a/1', ALICE)] })
    });
    expect(feed.connected).toBe(true);
    expect(model.people().map(p => p.username)).toEqual(['alice']);
    first.onmessage!({ data: '{"type":"nonsense"}' }); // ignored, not fatal
    expect(model.entries.size).toBe(1);

    first.onclose!({ code: 1006, reason: '' });
    expect(model.entries.size).toBe(0);
    expect(FakeSocket.made).toHaveLength(1);
    jest.advanceTimersByTime(100);
    expect(FakeSocket.made).toHaveLength(2);

    FakeSocket.made[1].onclose!({ code: 4403, reason: 'forbidden' });
    jest.advanceTimersByTime(60_000);
    expect(FakeSocket.made).toHaveLength(2); // refused: no retry loop
    feed.dispose();
  });

  it('puts the token in the URL only when the settings say so', () => {
    expect(
      presenceUrl({ wsUrl: 'ws://h/base/', token: 't k', appendToken: true })
    ).toBe('ws://h/base/api/collab/presence?token=t%20k');
    expect(presenceUrl({ wsUrl: 'ws://h/', token: 't', appendToken: false })).toBe(
      'ws://h/api/collab/presence'
    );
  });
});

describe('jumping to a person', () => {
  it('selects their cell, scrolls to it and reveals their caret', async () => {
    const doc = new Y.Doc();
    const texts = ['a = 1', 'b = 22222'].map((source, i) => {
      const text = doc.getText(`cell${i}`);
      text.insert(0, source);
      return text;
    });
    const bob = peer(BOB);
    bob.awareness.setLocalStateField('cursor', encodeCursorRange(texts[1], 4, 6));
    const mine = new Awareness(doc);
    relay(bob.awareness, mine);
    const revealed: number[] = [];
    const scrolled: string[] = [];
    const notebook = {
      activeCellIndex: 0,
      widgets: texts.map((ysource, i) => ({
        model: { id: `c${i}`, sharedModel: { ysource } },
        editor: {
          getPositionAt: (offset: number) => ({ line: 0, column: offset }),
          revealPosition: (p: { column: number }) => revealed.push(p.column)
        }
      })),
      scrollToCell: async (cell: any) => void scrolled.push(cell.model.id)
    };
    const target = entry('b/1', BOB, { cell: 'c1', client_id: bob.awareness.clientID });

    expect(await revealInNotebook(notebook, mine, target)).toBe(true);
    expect(notebook.activeCellIndex).toBe(1);
    expect(scrolled).toEqual(['c1']);
    expect(revealed).toEqual([6]);
    expect(caretOffset(mine, bob.awareness.clientID, texts[0])).toBeNull();
    expect(await revealInNotebook(notebook, mine, { ...target, cell: 'gone' })).toBe(
      false
    );
  });
});
