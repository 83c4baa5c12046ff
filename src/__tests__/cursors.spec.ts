import { EditorSelection } from '@codemirror/state';
import { EditorView } from '@codemirror/view';
import {
  applyAwarenessUpdate,
  Awareness,
  encodeAwarenessUpdate
} from 'y-protocols/awareness';
import * as Y from 'yjs';

import {
  collectRemoteCursors,
  CursorActivity,
  DEFAULT_IDLE_TIMEOUT_MS,
  encodeCursorRange,
  FALLBACK_COLOR,
  labelTextColor,
  localCursor,
  readCursorRange,
  refreshRemoteCursors,
  remoteCursors
} from '../cursors';

/** One collaborator: a doc, its awareness and the shared text. */
interface Peer {
  doc: Y.Doc;
  awareness: Awareness;
  text: Y.Text;
}

const peers: Peer[] = [];

function makePeer(user?: Record<string, unknown>): Peer {
  const doc = new Y.Doc();
  const awareness = new Awareness(doc);
  if (user !== undefined) {
    awareness.setLocalStateField('user', user);
  }
  const peer = { doc, awareness, text: doc.getText('source') };
  peers.push(peer);
  return peer;
}

afterEach(() => {
  // Awareness runs a renewal interval until destroyed
  peers.splice(0).forEach(peer => {
    peer.awareness.destroy();
    peer.doc.destroy();
  });
});

/** Exchange document updates both ways, as a provider would. */
function syncDocs(a: Peer, b: Peer): void {
  Y.applyUpdate(b.doc, Y.encodeStateAsUpdate(a.doc, Y.encodeStateVector(b.doc)));
  Y.applyUpdate(a.doc, Y.encodeStateAsUpdate(b.doc, Y.encodeStateVector(a.doc)));
}

/** Deliver `from`'s own awareness state to `to`. */
function sendAwareness(from: Peer, to: Peer): void {
  applyAwarenessUpdate(
    to.awareness,
    encodeAwarenessUpdate(from.awareness, [from.doc.clientID]),
    'remote'
  );
}

function select(peer: Peer, anchor: number, head: number): void {
  peer.awareness.setLocalStateField(
    'cursor',
    encodeCursorRange(peer.text, anchor, head)
  );
}

const BOB = {
  username: 'bob',
  name: 'Bob B.',
  display_name: 'Bob',
  initials: 'BB',
  color: '#ff8800',
  avatar_url: null
};
const ALICE = { ...BOB, username: 'alice', display_name: 'Alice', color: '#0088ff' };

describe('collectRemoteCursors', () => {
  it('maps a remote selection to the right offsets after concurrent edits before it', () => {
    const alice = makePeer(ALICE);
    const bob = makePeer(BOB);
    alice.text.insert(0, 'hello world');
    syncDocs(alice, bob);

    select(bob, 6, 11); // "world"
    sendAwareness(bob, alice);
    // both insert before the selection before hearing from each other
    alice.text.insert(0, 'oh, ');
    bob.text.insert(5, ' big');
    syncDocs(alice, bob);

    const [cursor, ...others] = collectRemoteCursors({
      states: alice.awareness.getStates(),
      localClientId: alice.awareness.clientID,
      ytext: alice.text,
      activity: new CursorActivity()
    });

    expect(others).toHaveLength(0);
    expect(alice.text.toString()).toBe('oh, hello big world');
    expect(alice.text.toString().slice(cursor.from, cursor.to)).toBe('world');
    expect(cursor).toMatchObject({
      clientId: bob.doc.clientID,
      name: 'Bob',
      color: '#ff8800',
      anchor: cursor.from,
      head: cursor.to,
      active: true
    });
  });

  it('excludes the local client', () => {
    const alice = makePeer(ALICE);
    const bob = makePeer(BOB);
    alice.text.insert(0, 'abc');
    syncDocs(alice, bob);
    select(alice, 1, 1);
    select(bob, 2, 2);
    sendAwareness(bob, alice);

    const cursors = collectRemoteCursors({
      states: alice.awareness.getStates(),
      localClientId: alice.awareness.clientID,
      ytext: alice.text,
      activity: new CursorActivity()
    });

    expect(cursors.map(c => c.clientId)).toEqual([bob.doc.clientID]);
  });

  it('marks a user idle once the idle timeout passes without a move', () => {
    let now = 1000;
    const activity = new CursorActivity({ now: () => now, idleTimeoutMs: 3000 });
    const alice = makePeer(ALICE);
    const bob = makePeer(BOB);
    alice.text.insert(0, 'abcdef');
    syncDocs(alice, bob);
    const activeNow = () =>
      collectRemoteCursors({
        states: alice.awareness.getStates(),
        localClientId: alice.awareness.clientID,
        ytext: alice.text,
        activity
      }).map(c => c.active);

    select(bob, 1, 1);
    sendAwareness(bob, alice);
    expect(activeNow()).toEqual([true]);

    now += 2999;
    expect(activeNow()).toEqual([true]);
    now += 1;
    expect(activeNow()).toEqual([false]);

    // an awareness renewal with the same cursor is not activity
    bob.awareness.setLocalState(bob.awareness.getLocalState());
    sendAwareness(bob, alice);
    expect(activeNow()).toEqual([false]);

    select(bob, 2, 2);
    sendAwareness(bob, alice);
    expect(activeNow()).toEqual([true]);
    expect(activity.remainingMs(bob.doc.clientID)).toBe(3000);
  });

  it('ignores malformed states without throwing', () => {
    const alice = makePeer(ALICE);
    const bob = makePeer(BOB);
    alice.text.insert(0, 'some text');
    syncDocs(alice, bob);
    select(bob, 0, 4);
    sendAwareness(bob, alice);
    const good = encodeCursorRange(alice.text, 1, 1);
    // another cell of the same notebook: a second text in the same doc
    const otherCell = alice.doc.getText('other');
    otherCell.insert(0, 'elsewhere');

    const malformed: unknown[] = [
      { cursor: good }, // no user
      { user: BOB }, // no cursor
      { user: 'bob', cursor: good },
      { user: BOB, cursor: 'here' },
      { user: BOB, cursor: { anchor: 5, head: 5 } },
      { user: BOB, cursor: { anchor: {}, head: {} } },
      { user: BOB, cursor: { anchor: { item: { client: 'x', clock: 1 } }, head: good.head } },
      { user: BOB, cursor: { anchor: { item: { client: 1, clock: -1 } }, head: good.head } },
      { user: BOB, cursor: { anchor: { tname: 'nope' }, head: { tname: 'nope' } } },
      { user: BOB, cursor: { anchor: { item: { client: 42, clock: 7 } }, head: good.head } },
      { user: BOB, cursor: null, cursors: [null, 3, { anchor: 1 }] },
      { user: BOB, cursor: encodeCursorRange(otherCell, 2, 2) },
      [1, 2, 3]
    ];
    for (const state of malformed) {
      const stranger = makePeer();
      stranger.awareness.setLocalState(state as Record<string, unknown>);
      sendAwareness(stranger, alice);
    }

    let cursors: ReturnType<typeof collectRemoteCursors> = [];
    expect(() => {
      cursors = collectRemoteCursors({
        states: alice.awareness.getStates(),
        localClientId: alice.awareness.clientID,
        ytext: alice.text,
        activity: new CursorActivity()
      });
    }).not.toThrow();

    expect(cursors.map(c => c.clientId)).toEqual([bob.doc.clientID]);
    // resolving a missing root name must not create it as a side effect
    expect(alice.doc.share.has('nope')).toBe(false);
  });

  it('falls back from display_name to name to username, and rejects unsafe colors', () => {
    const alice = makePeer(ALICE);
    alice.text.insert(0, 'abc');
    const states = new Map<number, unknown>();
    const cursor = encodeCursorRange(alice.text, 0, 0);
    states.set(1, { user: { name: 'Named', username: 'n', color: 'red; top: 0' }, cursor });
    states.set(2, { user: { username: 'only-username', color: 'var(--jp-collaborator-color3)' }, cursor });
    states.set(3, { user: {}, cursor });

    const cursors = collectRemoteCursors({
      states,
      localClientId: alice.awareness.clientID,
      ytext: alice.text,
      activity: new CursorActivity()
    });

    expect(cursors.map(c => [c.name, c.color])).toEqual([
      ['Named', FALLBACK_COLOR],
      ['only-username', 'var(--jp-collaborator-color3)'],
      ['Anonymous', FALLBACK_COLOR]
    ]);
  });

  it("reads jupyter-collaboration's `cursors` array, preferring the primary range", () => {
    const alice = makePeer(ALICE);
    alice.text.insert(0, 'abcdef');
    const first = encodeCursorRange(alice.text, 1, 1);
    const primary = encodeCursorRange(alice.text, 2, 4);

    const range = readCursorRange({
      user: BOB,
      cursors: [
        { ...first, primary: false, empty: true },
        { ...primary, primary: true, empty: false }
      ]
    });

    expect(range).toEqual({ ...primary, primary: true, empty: false });
  });
});

describe('remoteCursors in an EditorView', () => {
  function makeView(alice: Peer, now: () => number): EditorView {
    const parent = document.createElement('div');
    document.body.appendChild(parent);
    return new EditorView({
      doc: alice.text.toString(),
      parent,
      extensions: [
        remoteCursors({
          awareness: alice.awareness,
          ytext: alice.text,
          now,
          idleTimeoutMs: 5000
        })
      ]
    });
  }

  it('puts the label below on the first line, and beside the caret in a one-line editor', () => {
    const alice = makePeer(ALICE);
    const bob = makePeer(BOB);
    alice.text.insert(0, 'only line');
    syncDocs(alice, bob);
    const view = makeView(alice, () => 0);
    select(bob, 4, 4);
    sendAwareness(bob, alice);
    const caret = () => view.dom.querySelector<HTMLElement>('.jp-CollabRemoteCursor')!;
    expect(caret().classList.contains('jp-mod-beside')).toBe(true);

    // the view is not bound to the text here: change both, as the binding would
    alice.text.insert(alice.text.length, '\nsecond line');
    view.dispatch({ changes: { from: view.state.doc.length, insert: '\nsecond line' } });
    syncDocs(alice, bob);
    sendAwareness(bob, alice);
    view.dispatch({ effects: refreshRemoteCursors.of(null) });
    expect(caret().classList.contains('jp-mod-beside')).toBe(false);
    expect(caret().classList.contains('jp-mod-below')).toBe(true);
    view.destroy();
  });

  it('renders one caret with the remote user name and color, fading when idle', () => {
    let now = 0;
    const alice = makePeer(ALICE);
    const bob = makePeer(BOB);
    alice.text.insert(0, 'first line\nhello world');
    syncDocs(alice, bob);
    const view = makeView(alice, () => now);
    select(alice, 0, 0); // own cursor: never drawn

    select(bob, 17, 22); // "world"
    sendAwareness(bob, alice);

    const carets = view.dom.querySelectorAll<HTMLElement>('.jp-CollabRemoteCursor');
    expect(carets).toHaveLength(1);
    const caret = carets[0];
    expect(caret.textContent).toBe('Bob');
    expect(caret.style.getPropertyValue('--jp-collab-user-color')).toBe('#ff8800');
    expect(caret.classList.contains('jp-mod-active')).toBe(true);
    expect(caret.classList.contains('jp-mod-below')).toBe(false);
    expect(caret.classList.contains('jp-mod-beside')).toBe(false);
    const selection = view.dom.querySelector('.jp-CollabRemoteSelection');
    expect(selection?.textContent).toBe('world');
    expect(selection?.getAttribute('style')).toContain('#ff8800');

    now += 5000;
    view.dispatch({ effects: refreshRemoteCursors.of(null) });
    // updated in place, so the CSS opacity transition can fade the label
    expect(view.dom.querySelector('.jp-CollabRemoteCursor')).toBe(caret);
    expect(caret.classList.contains('jp-mod-active')).toBe(false);

    view.destroy();
  });

  it('wakes itself up to fade a label when its user stops moving', () => {
    jest.useFakeTimers();
    try {
      let now = 0;
      const alice = makePeer(ALICE);
      const bob = makePeer(BOB);
      alice.text.insert(0, 'abc');
      syncDocs(alice, bob);
      const view = makeView(alice, () => now);
      select(bob, 1, 1);
      sendAwareness(bob, alice);
      const caret = view.dom.querySelector('.jp-CollabRemoteCursor');
      expect(caret?.classList.contains('jp-mod-active')).toBe(true);

      now += 5000;
      jest.advanceTimersByTime(5001);

      expect(caret?.classList.contains('jp-mod-active')).toBe(false);
      view.destroy();
    } finally {
      jest.useRealTimers();
    }
  });

  it('follows document changes and drops carets of users who leave', () => {
    const alice = makePeer(ALICE);
    const bob = makePeer(BOB);
    alice.text.insert(0, 'hello world');
    syncDocs(alice, bob);
    const view = makeView(alice, () => 0);
    select(bob, 6, 11);
    sendAwareness(bob, alice);

    // a remote insert reaches the Y.Text, and the binding mirrors it in the view
    bob.text.insert(0, '>> ');
    syncDocs(alice, bob);
    view.dispatch({ changes: { from: 0, insert: '>> ' } });

    expect(view.dom.querySelector('.jp-CollabRemoteSelection')?.textContent).toBe(
      'world'
    );

    bob.awareness.setLocalState(null);
    sendAwareness(bob, alice);
    expect(view.dom.querySelectorAll('.jp-CollabRemoteCursor')).toHaveLength(0);

    view.destroy();
  });

  it('stops listening to awareness once destroyed', () => {
    const alice = makePeer(ALICE);
    const bob = makePeer(BOB);
    alice.text.insert(0, 'abc');
    syncDocs(alice, bob);
    const view = makeView(alice, () => 0);
    view.destroy();

    select(bob, 1, 1);
    expect(() => sendAwareness(bob, alice)).not.toThrow();
    expect(view.dom.querySelectorAll('.jp-CollabRemoteCursor')).toHaveLength(0);
  });
});

describe('name labels', () => {
  it('fade 2 s after their user last moved or typed, and come back when they type', () => {
    jest.useFakeTimers();
    try {
      let now = 0;
      const alice = makePeer(ALICE);
      const bob = makePeer(BOB);
      alice.text.insert(0, 'first line\nsecond line');
      syncDocs(alice, bob);
      const parent = document.createElement('div');
      document.body.appendChild(parent);
      // the default timeout: no idleTimeoutMs given
      const view = new EditorView({
        doc: alice.text.toString(),
        parent,
        extensions: [
          remoteCursors({ awareness: alice.awareness, ytext: alice.text, now: () => now })
        ]
      });
      expect(DEFAULT_IDLE_TIMEOUT_MS).toBe(2000);
      select(bob, 15, 15);
      sendAwareness(bob, alice);
      const caret = () => view.dom.querySelector<HTMLElement>('.jp-CollabRemoteCursor')!;
      expect(caret().classList.contains('jp-mod-active')).toBe(true);

      now += 1900;
      jest.advanceTimersByTime(1900);
      expect(caret().classList.contains('jp-mod-active')).toBe(true);
      now += 200;
      jest.advanceTimersByTime(200);
      expect(caret().classList.contains('jp-mod-active')).toBe(false);

      // bob types: his caret moves, and his name shows again
      bob.text.insert(15, 'x');
      syncDocs(alice, bob);
      view.dispatch({ changes: { from: 15, insert: 'x' } });
      select(bob, 16, 16);
      sendAwareness(bob, alice);
      expect(caret().classList.contains('jp-mod-active')).toBe(true);

      // an awareness renewal with the same position is not activity
      now += 2100;
      jest.advanceTimersByTime(2100);
      sendAwareness(bob, alice);
      expect(caret().classList.contains('jp-mod-active')).toBe(false);
      view.destroy();
    } finally {
      jest.useRealTimers();
    }
  });

  it('write black or white, whichever reads better on the user’s colour', () => {
    expect(labelTextColor('#2977b2')).toBe('#ffffff'); // dark blue
    expect(labelTextColor('#45a835')).toBe('#000000'); // light green
    expect(labelTextColor('#FF0')).toBe('#000000');
    expect(labelTextColor('var(--jp-brand-color1)')).toBeNull();
    expect(labelTextColor('rgb(0, 0, 0)')).toBeNull();

    const alice = makePeer(ALICE);
    const bob = makePeer({ ...BOB, color: '#2977b2' });
    alice.text.insert(0, 'abc\ndef');
    syncDocs(alice, bob);
    const parent = document.createElement('div');
    document.body.appendChild(parent);
    const view = new EditorView({
      doc: alice.text.toString(),
      parent,
      extensions: [remoteCursors({ awareness: alice.awareness, ytext: alice.text })]
    });
    select(bob, 5, 5);
    sendAwareness(bob, alice);
    const caret = view.dom.querySelector<HTMLElement>('.jp-CollabRemoteCursor')!;
    expect(caret.style.getPropertyValue('--jp-collab-user-text-color')).toBe('#ffffff');
    view.destroy();
  });
});

describe('localCursor', () => {
  it('publishes the focused selection in the format remoteCursors reads', () => {
    const alice = makePeer(ALICE);
    const bob = makePeer(BOB);
    alice.text.insert(0, 'hello world');
    syncDocs(alice, bob);
    const parent = document.createElement('div');
    document.body.appendChild(parent);
    const view = new EditorView({
      doc: alice.text.toString(),
      parent,
      extensions: [localCursor({ awareness: alice.awareness, ytext: alice.text })]
    });
    view.focus();
    expect(view.hasFocus).toBe(true);

    view.dispatch({ selection: EditorSelection.range(0, 5) });
    sendAwareness(alice, bob);

    const [cursor] = collectRemoteCursors({
      states: bob.awareness.getStates(),
      localClientId: bob.awareness.clientID,
      ytext: bob.text,
      activity: new CursorActivity()
    });
    expect(bob.text.toString().slice(cursor.from, cursor.to)).toBe('hello');
    view.destroy();
  });
});
