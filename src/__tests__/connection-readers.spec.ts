import * as decoding from 'lib0/decoding';
import * as syncProtocol from 'y-protocols/sync';
import * as Y from 'yjs';

import { MessageKind } from '../protocol';

import {
  FakeSocket,
  handshake,
  makeConnection,
  resetConnectionTests,
  serverEvent
} from './connection-helpers';

afterEach(resetConnectionTests);

// ---------------------------------------------------------------------------
// Readers send nothing

/** The Yjs sync messages (kind 0) sent so far: [sync message type, payload]. */
function sentSync(socket: FakeSocket): [number, Uint8Array][] {
  return socket.sent
    .filter(message => message[0] === MessageKind.SYNC)
    .map(message => {
      const decoder = decoding.createDecoder(message);
      decoding.readVarUint(decoder);
      const type = decoding.readVarUint(decoder);
      return [type, decoding.readVarUint8Array(decoder)];
    });
}

/** How many sync step 2 or update messages the client sent would change `server`. */
function sentChanges(socket: FakeSocket, server: Y.Doc): number {
  const room = Y.encodeStateAsUpdate(server);
  return sentSync(socket).filter(([type, payload]) => {
    if (type === syncProtocol.messageYjsSyncStep1) {
      return false;
    }
    const copy = new Y.Doc();
    Y.applyUpdate(copy, room);
    Y.applyUpdate(copy, payload);
    return !equalBytes(Y.encodeStateAsUpdate(copy), room);
  }).length;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

describe('a reader', () => {
  it("keeps a viewer's local change in the browser: nothing is sent", () => {
    const harness = makeConnection({ role: 'viewer' });
    handshake(harness);
    const sentBefore = harness.socket.sent.length;

    harness.connection.ydoc.getMap('state').set('dirty', false);

    expect(harness.socket.sent.length).toBe(sentBefore);
    expect(harness.connection.heldBack).toBe(1);
    expect(harness.connection.ydoc.getMap('state').get('dirty')).toBe(false);
  });

  it('answers the sync with an empty update, even with changes held back', () => {
    const ydoc = new Y.Doc();
    ydoc.getMap('meta').set('local', 1); // made before connecting
    const harness = makeConnection({ role: 'commenter', ydoc });
    harness.server.getText('source').insert(0, 'shared');

    handshake(harness);

    const answers = sentSync(harness.socket).filter(
      ([type]) => type === syncProtocol.messageYjsSyncStep2
    );
    expect(answers).toHaveLength(1);
    expect(Array.from(answers[0][1])).toEqual([0, 0]);
    expect(sentChanges(harness.socket, harness.server)).toBe(0);
    expect(ydoc.getText('source').toString()).toBe('shared');
  });

  it('sends its edits as an editor, and answers the sync with them', () => {
    const ydoc = new Y.Doc();
    ydoc.getText('source').insert(0, 'offline ');
    const harness = makeConnection({ role: 'editor', ydoc });
    handshake(harness);

    ydoc.getText('source').insert(0, 'typed ');

    expect(sentChanges(harness.socket, harness.server)).toBe(2);
    expect(harness.connection.heldBack).toBe(0);
  });

  it('sends what it held back once raised to editor, before what follows', () => {
    const harness = makeConnection({ role: 'viewer' });
    handshake(harness);
    const ydoc = harness.connection.ydoc;
    ydoc.getMap('meta').set('collapsed', true);
    expect(sentChanges(harness.socket, harness.server)).toBe(0);

    harness.socket.receive(serverEvent({ type: 'role', role: 'editor' }));
    ydoc.getText('source').insert(0, 'now');

    expect(harness.connection.heldBack).toBe(0);
    const updates = sentSync(harness.socket).filter(
      ([type]) => type === syncProtocol.messageYjsUpdate
    );
    expect(updates).toHaveLength(2);
    const room = new Y.Doc();
    updates.forEach(([, update]) => Y.applyUpdate(room, update));
    expect(room.getMap('meta').get('collapsed')).toBe(true);
    expect(room.getText('source').toString()).toBe('now');
    expect(room.store.pendingStructs).toBeNull();
  });

  it('holds back again once lowered to viewer', () => {
    const harness = makeConnection({ role: 'editor' });
    handshake(harness);

    harness.socket.receive(serverEvent({ type: 'role', role: 'viewer' }));
    harness.connection.ydoc.getText('source').insert(0, 'x');

    expect(sentChanges(harness.socket, harness.server)).toBe(0);
    expect(harness.connection.heldBack).toBe(1);
  });
});
