import {
  collectRemoteCursors,
  CursorActivity,
  encodeCursorRange,
  FALLBACK_COLOR,
  readCursorRange
} from '../cursors';

import {
  ALICE,
  BOB,
  destroyPeers,
  makePeer,
  select,
  sendAwareness,
  syncDocs
} from './cursors-helpers';

afterEach(destroyPeers);

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
