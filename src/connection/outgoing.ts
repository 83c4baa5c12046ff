/**
 * What a connection sends its room of this browser's own changes, by role.
 *
 * An editor's (or owner's) local changes go out as they happen. A reader (viewer,
 * commenter) never sends the document anything: JupyterLab writes to the shared document
 * by itself now and then (view metadata when a cell is collapsed, a cell's trust), and
 * the server closes a reader's connection for any update. Those local changes are held
 * back: they stay in this browser, the reader answers the server's sync with an empty
 * update, and the held changes go out only if an owner makes this person an editor (the
 * room then needs them to apply what follows).
 */
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import { WebsocketProvider } from 'y-websocket';
import * as syncProtocol from 'y-protocols/sync';
import * as Y from 'yjs';

import { MessageKind } from '../protocol';
import { canEdit } from './events';

/** An update that adds and deletes nothing: what a reader answers the server's sync. */
const EMPTY_UPDATE = new Uint8Array([0, 0]);

/**
 * A provider's outgoing document changes, sent or held back by this person's role.
 */
export class OutgoingChanges {
  /**
   * Take over the sending of `ydoc`'s local changes from `provider`, and its answer to
   * the server's sync step 1. Call before the provider connects.
   *
   * Args:
   *   provider: y-websocket's provider of `ydoc`, its message handlers its own copies
   *     (replacing one here affects no other provider).
   *   role: this person's role from the session answer.
   *   path: the document's path, for the log line.
   */
  constructor(
    provider: WebsocketProvider,
    ydoc: Y.Doc,
    role: string,
    path: string
  ) {
    this._provider = provider;
    this._ydoc = ydoc;
    this._role = role;
    this._path = path;
    ydoc.off('update', provider._updateHandler);
    ydoc.on('update', this._onLocalUpdate);
    const readSync = provider.messageHandlers[MessageKind.SYNC];
    provider.messageHandlers[MessageKind.SYNC] = (encoder, decoder, ...rest) => {
      if (
        !canEdit(this._role) &&
        decoding.peekVarUint(decoder) === syncProtocol.messageYjsSyncStep1
      ) {
        answerSyncAsReader(encoder, decoder);
      } else {
        readSync(encoder, decoder, ...rest);
      }
    };
  }

  /** How many local changes are held back; 0 once they were sent. */
  get heldBack(): number {
    return this._held.length;
  }

  /**
   * An owner changed this person's role. Raised to editor, the held-back changes go
   * out first: later changes build on them. Offline, the next sync sends them.
   */
  setRole(role: string): void {
    this._role = role;
    if (!canEdit(role) || this._held.length === 0) {
      return;
    }
    const held = Y.mergeUpdates(this._held);
    this._held = [];
    this._provider._updateHandler(held, null);
  }

  /** Stop listening to the document's changes. */
  dispose(): void {
    this._ydoc.off('update', this._onLocalUpdate);
  }

  /** Send a local change, or hold it back while this person may not edit. */
  private _onLocalUpdate = (update: Uint8Array, origin: unknown): void => {
    if (origin === this._provider) {
      return; // from the room
    }
    if (canEdit(this._role)) {
      this._provider._updateHandler(update, origin);
      return;
    }
    if (this._held.length === 0) {
      console.debug(
        `jupyter-collab: a local change to ${this._path} stays in this browser ` +
          `(${this._role}s do not edit the shared document)`
      );
    }
    this._held.push(update);
  };

  private readonly _provider: WebsocketProvider;
  private readonly _ydoc: Y.Doc;
  private readonly _path: string;
  private _role: string;
  private _held: Uint8Array[] = [];
}

/**
 * Answer the server's sync step 1 as a reader: with an empty update, since everything
 * this client has that the room lacks is held back.
 */
function answerSyncAsReader(
  encoder: encoding.Encoder,
  decoder: decoding.Decoder
): void {
  decoding.readVarUint(decoder); // the message type: step 1
  decoding.readVarUint8Array(decoder); // the room's state vector
  encoding.writeVarUint(encoder, MessageKind.SYNC);
  encoding.writeVarUint(encoder, syncProtocol.messageYjsSyncStep2);
  encoding.writeVarUint8Array(encoder, EMPTY_UPDATE);
}
