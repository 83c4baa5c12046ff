import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import * as syncProtocol from 'y-protocols/sync';
import * as Y from 'yjs';

import { MessageKind } from '../protocol';

/**
 * Deliver one framed message to `doc` and return the framed reply, if any,
 * the way a provider handles a SYNC message.
 */
function receive(doc: Y.Doc, message: Uint8Array): Uint8Array | null {
  const decoder = decoding.createDecoder(message);
  expect(decoding.readVarUint(decoder)).toBe(MessageKind.SYNC);
  const reply = encoding.createEncoder();
  encoding.writeVarUint(reply, MessageKind.SYNC);
  syncProtocol.readSyncMessage(decoder, reply, doc, 'remote');
  // only the kind prefix means there is nothing to answer
  return encoding.length(reply) > 1 ? encoding.toUint8Array(reply) : null;
}

function syncStep1(doc: Y.Doc): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, MessageKind.SYNC);
  syncProtocol.writeSyncStep1(encoder, doc);
  return encoding.toUint8Array(encoder);
}

describe('SYNC messages', () => {
  it('bring an empty doc up to date with a peer', () => {
    const alice = new Y.Doc();
    const bob = new Y.Doc();
    alice.getText('source').insert(0, 'hello from alice');

    const step2 = receive(alice, syncStep1(bob));
    expect(step2).not.toBeNull();
    const answer = receive(bob, step2!);

    expect(answer).toBeNull();
    expect(bob.getText('source').toString()).toBe('hello from alice');
  });

  it('carry incremental updates after the handshake', () => {
    const alice = new Y.Doc();
    const bob = new Y.Doc();
    receive(bob, receive(alice, syncStep1(bob))!);
    const outbox: Uint8Array[] = [];
    alice.on('update', (update: Uint8Array) => {
      const encoder = encoding.createEncoder();
      encoding.writeVarUint(encoder, MessageKind.SYNC);
      syncProtocol.writeUpdate(encoder, update);
      outbox.push(encoding.toUint8Array(encoder));
    });

    alice.getText('source').insert(0, 'typed later');
    outbox.forEach(message => receive(bob, message));

    expect(bob.getText('source').toString()).toBe('typed later');
  });
});
