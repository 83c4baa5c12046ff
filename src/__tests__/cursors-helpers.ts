/**
 * Shared by the cursors*.spec.ts tests: collaborators (a doc, its awareness, the shared
 * text) and the exchanges a provider would make between them. Not a test file itself
 * (jest runs only *.spec.ts).
 */
import {
  applyAwarenessUpdate,
  Awareness,
  encodeAwarenessUpdate
} from 'y-protocols/awareness';
import * as Y from 'yjs';

import { encodeCursorRange } from '../cursors';

/** One collaborator: a doc, its awareness and the shared text. */
export interface Peer {
  doc: Y.Doc;
  awareness: Awareness;
  text: Y.Text;
}

const peers: Peer[] = [];

export function makePeer(user?: Record<string, unknown>): Peer {
  const doc = new Y.Doc();
  const awareness = new Awareness(doc);
  if (user !== undefined) {
    awareness.setLocalStateField('user', user);
  }
  const peer = { doc, awareness, text: doc.getText('source') };
  peers.push(peer);
  return peer;
}

/** Run after each test: awareness runs a renewal interval until destroyed. */
export function destroyPeers(): void {
  peers.splice(0).forEach(peer => {
    peer.awareness.destroy();
    peer.doc.destroy();
  });
}

/** Exchange document updates both ways, as a provider would. */
export function syncDocs(a: Peer, b: Peer): void {
  Y.applyUpdate(b.doc, Y.encodeStateAsUpdate(a.doc, Y.encodeStateVector(b.doc)));
  Y.applyUpdate(a.doc, Y.encodeStateAsUpdate(b.doc, Y.encodeStateVector(a.doc)));
}

/** Deliver `from`'s own awareness state to `to`. */
export function sendAwareness(from: Peer, to: Peer): void {
  applyAwarenessUpdate(
    to.awareness,
    encodeAwarenessUpdate(from.awareness, [from.doc.clientID]),
    'remote'
  );
}

export function select(peer: Peer, anchor: number, head: number): void {
  peer.awareness.setLocalStateField(
    'cursor',
    encodeCursorRange(peer.text, anchor, head)
  );
}

export const BOB = {
  username: 'bob',
  name: 'Bob B.',
  display_name: 'Bob',
  initials: 'BB',
  color: '#ff8800',
  avatar_url: null
};
export const ALICE = { ...BOB, username: 'alice', display_name: 'Alice', color: '#0088ff' };
