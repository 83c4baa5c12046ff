import { EditorSelection } from '@codemirror/state';
import { EditorView } from '@codemirror/view';

import {
  collectRemoteCursors,
  CursorActivity,
  DEFAULT_IDLE_TIMEOUT_MS,
  labelTextColor,
  localCursor,
  refreshRemoteCursors,
  remoteCursors
} from '../cursors';

import {
  ALICE,
  BOB,
  destroyPeers,
  makePeer,
  Peer,
  select,
  sendAwareness,
  syncDocs
} from './cursors-helpers';

afterEach(destroyPeers);

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
