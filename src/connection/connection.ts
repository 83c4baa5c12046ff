/**
 * One document's live connection to its room: a y-websocket provider plus our JSON
 * events, the connection state and save requests.
 *
 * Knows nothing of JupyterLab's application, documents or widgets: the caller brings the
 * session, the `Y.Doc` and the server settings, and listens to signals.
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';
import { ISignal, Signal } from '@lumino/signaling';
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import { WebsocketProvider } from 'y-websocket';
import { Awareness } from 'y-protocols/awareness';
import * as syncProtocol from 'y-protocols/sync';
import * as Y from 'yjs';

import { ISession } from '../api';
import { MessageKind } from '../protocol';
import {
  canEdit,
  encodeEvent,
  ISavedEvent,
  readEvent,
  ServerEvent
} from './events';
import {
  ConnectionInput,
  ConnectionState,
  INITIAL_STATE,
  isTerminal,
  nextState
} from './state';

/**
 * The WebSocket constructor y-websocket accepts.
 */
export type WebSocketConstructor = typeof WebSocket;

/**
 * Where y-websocket connects: it joins `serverUrl + '/' + roomname + '?' + params`.
 */
export interface IRoomAddress {
  readonly serverUrl: string;
  readonly roomname: string;
  readonly params: { readonly [key: string]: string };
}

/**
 * The y-websocket arguments for a session's room.
 *
 * The room path comes from the server (`api/collab/room/<doc_id>`) and is used as is:
 * y-websocket does not encode the room name, and a doc id needs no encoding.
 * The token goes in the query only when the settings say so (`appendToken`: outside a
 * browser, where a websocket cannot carry an Authorization header); in the browser the
 * cookie authenticates.
 */
export function roomAddress(
  session: Pick<ISession, 'room' | 'epoch'>,
  settings: Pick<ServerConnection.ISettings, 'wsUrl' | 'token' | 'appendToken'>
): IRoomAddress {
  const url = URLExt.join(settings.wsUrl, session.room);
  const cut = url.lastIndexOf('/');
  const params: { [key: string]: string } = { epoch: session.epoch };
  if (settings.appendToken && settings.token) {
    params.token = settings.token;
  }
  return {
    serverUrl: url.slice(0, cut),
    roomname: url.slice(cut + 1),
    params
  };
}

/**
 * The text of a document worth offering as a copy. The default reads a file document's
 * `source` text; a notebook's owner passes one that serializes its cells.
 */
export type DocumentSnapshot = (ydoc: Y.Doc) => string | null;

/**
 * Read the `source` text of a file-shaped document (`@jupyter/ydoc`'s `YFile`), without
 * creating it when absent.
 */
export function snapshotSource(ydoc: Y.Doc): string | null {
  return ydoc.share.has('source') ? ydoc.getText('source').toString() : null;
}

/** An update that adds and deletes nothing: what a reader answers the server's sync. */
const EMPTY_UPDATE = new Uint8Array([0, 0]);

/**
 * Constructor options of `CollabConnection`.
 */
export interface ICollabConnectionOptions {
  /** The answer of the session call for this document. */
  readonly session: ISession;
  /** The document to sync; must hold nothing from another epoch. */
  readonly ydoc: Y.Doc;
  /** The awareness to sync; a new one on `ydoc` when omitted. */
  readonly awareness?: Awareness;
  /** Where the server is and how to authenticate. */
  readonly serverSettings: ServerConnection.ISettings;
  /** The WebSocket class; `serverSettings.WebSocket` when omitted. */
  readonly WebSocketPolyfill?: WebSocketConstructor;
  /** How long `requestSave` waits for its `saved` answer, in ms; 10 000 by default. */
  readonly saveTimeoutMs?: number;
  /** What `unsyncedText` returns; `snapshotSource` by default. */
  readonly snapshot?: DocumentSnapshot;
  /** Connect at once (the default) or wait for `connect()`. */
  readonly connect?: boolean;
}

/**
 * A save request that failed: the server said why, the connection was lost before the
 * answer, or the answer did not come in time.
 */
export class SaveError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SaveError';
  }
}

interface IPendingSave {
  readonly id: string;
  sent: boolean;
  readonly resolve: (event: ISavedEvent) => void;
  readonly reject: (error: Error) => void;
  readonly timer: ReturnType<typeof setTimeout>;
}

/**
 * A document's connection to its room.
 *
 * An adapter: y-websocket speaks the Yjs protocol and reconnects with backoff; this class
 * adds what our server adds (the epoch parameter, kind-4 events, close codes that end
 * the connection) and turns y-websocket's loose events into one `ConnectionState`.
 * Cross-tab BroadcastChannel sync is off: it would bypass the server's epoch check.
 *
 * A reader (viewer, commenter) never sends the document anything: JupyterLab writes to
 * the shared document by itself now and then (view metadata when a cell is collapsed, a
 * cell's trust), and the server closes a reader's connection for any update. Those
 * local changes are held back (`heldBack`): they stay in this browser, the reader
 * answers the server's sync with an empty update, and the held changes go out only if
 * an owner makes this person an editor (the room then needs them to apply what follows).
 */
export class CollabConnection {
  constructor(options: ICollabConnectionOptions) {
    this.session = options.session;
    this.ydoc = options.ydoc;
    this._saveTimeoutMs = options.saveTimeoutMs ?? 10_000;
    this._snapshot = options.snapshot ?? snapshotSource;

    const address = roomAddress(options.session, options.serverSettings);
    this.provider = new WebsocketProvider(
      address.serverUrl,
      address.roomname,
      options.ydoc,
      {
        connect: false,
        awareness: options.awareness,
        params: { ...address.params },
        WebSocketPolyfill:
          options.WebSocketPolyfill ?? options.serverSettings.WebSocket,
        disableBc: true
      }
    );
    this._role = options.session.role;
    // Local changes go through `_onLocalUpdate` (held back for readers), not straight out.
    options.ydoc.off('update', this.provider._updateHandler);
    options.ydoc.on('update', this._onLocalUpdate);
    // Per-provider copies: replacing handlers here affects no other provider.
    const readSync = this.provider.messageHandlers[MessageKind.SYNC];
    this.provider.messageHandlers[MessageKind.SYNC] = (encoder, decoder, ...rest) => {
      if (
        !canEdit(this._role) &&
        decoding.peekVarUint(decoder) === syncProtocol.messageYjsSyncStep1
      ) {
        this._answerSyncAsReader(encoder, decoder);
      } else {
        readSync(encoder, decoder, ...rest);
      }
    };
    this.provider.messageHandlers[MessageKind.EVENT] = (
      _encoder: encoding.Encoder,
      decoder: decoding.Decoder
    ) => {
      this._onEventMessage(decoder);
    };
    this.provider.on('status', this._onStatus);
    this.provider.on('sync', this._onSync);
    this.provider.on('connection-close', this._onConnectionClose);
    this.provider.on('closed', this._onClosed);
    if (typeof window !== 'undefined') {
      window.addEventListener('online', this._onOnline);
      window.addEventListener('offline', this._onOffline);
    }
    if (options.connect ?? true) {
      this.connect();
    }
  }

  /** The session this connection serves. */
  readonly session: ISession;

  /** The synced document. */
  readonly ydoc: Y.Doc;

  /**
   * The underlying provider, for its awareness and URL. Do not connect or disconnect it
   * directly: use this object's methods, so the state stays true.
   */
  readonly provider: WebsocketProvider;

  /** Where the connection stands. */
  get state(): ConnectionState {
    return this._state;
  }

  /** Emits the new state on every change. */
  get stateChanged(): ISignal<this, ConnectionState> {
    return this._stateChanged;
  }

  /** Emits every known event the server sends (`saved`, `reload`, `error`). */
  get eventReceived(): ISignal<this, ServerEvent> {
    return this._eventReceived;
  }

  /** Whether `dispose()` ran. */
  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /**
   * How many local changes were held back because this person may not edit (see the
   * class notes); 0 once they were sent after a promotion to editor.
   */
  get heldBack(): number {
    return this._held.length;
  }

  /**
   * Start connecting, when constructed with `connect: false`. Does nothing once the
   * state is terminal: a stale or refused document needs a new session.
   */
  connect(): void {
    if (!this._isDisposed && !isTerminal(this._state)) {
      this.provider.connect();
    }
  }

  /**
   * Wait until the document is connected and holds the server's state.
   *
   * Raises (rejects with):
   *   Error: the connection became stale or closed first (its reason as the message).
   */
  whenSynced(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const check = (): boolean => {
        const state = this._state;
        if (state.status === 'connected' && state.synced) {
          resolve();
          return true;
        }
        if (state.status === 'stale' || state.status === 'closed') {
          reject(new Error(state.reason));
          return true;
        }
        return false;
      };
      if (!check()) {
        const listener = (): void => {
          if (check()) {
            this._stateChanged.disconnect(listener);
          }
        };
        this._stateChanged.connect(listener);
      }
    });
  }

  /**
   * Ask the server to write the document to disk now.
   *
   * While the document is not synced the request waits (within the timeout) and is
   * sent once the server's state has arrived, after this client's offline edits.
   *
   * Returns:
   *   The `saved` event answering this request.
   *
   * Raises (rejects with):
   *   SaveError: the server answered with an `error` event, the connection was lost
   *     after the request was sent, the state became terminal, the connection was
   *     disposed, or no answer came within `saveTimeoutMs`.
   */
  requestSave(): Promise<ISavedEvent> {
    if (this._isDisposed || isTerminal(this._state)) {
      const reason =
        this._state.status === 'stale' || this._state.status === 'closed'
          ? this._state.reason
          : 'The connection is closed.';
      return Promise.reject(new SaveError(`Cannot save: ${reason}`));
    }
    const id = `save-${this.ydoc.clientID}-${++this._saveCount}`;
    return new Promise<ISavedEvent>((resolve, reject) => {
      const timer = setTimeout(() => {
        this._settleSave(
          id,
          new SaveError(
            `The server did not confirm the save within ${this._saveTimeoutMs} ms.`
          )
        );
      }, this._saveTimeoutMs);
      const pending: IPendingSave = { id, sent: false, resolve, reject, timer };
      this._pendingSaves.set(id, pending);
      if (this._isSynced()) {
        this._sendSave(pending);
      }
    });
  }

  /**
   * Ask the room to lock (or unlock) a notebook cell; owners only. The answer is a
   * `locks` event to everyone, or an `error` event (see `eventReceived`).
   *
   * Returns:
   *   Whether the request was sent (the connection is open and synced).
   */
  requestLock(cellId: string, locked: boolean): boolean {
    const ws = this.provider.ws;
    if (ws === null || !this.provider.wsconnected || !this._isSynced()) {
      return false;
    }
    ws.send(encodeEvent({ type: 'lock', cell: cellId, locked }));
    return true;
  }

  /**
   * Tell the room this person's new display name (JupyterLab's `api/me` keeps it for
   * later connections): the server shows it at once in every room they are in. Guests
   * get an `error` event (see `eventReceived`).
   *
   * Returns:
   *   Whether the request was sent (the connection is open).
   */
  requestName(displayName: string): boolean {
    const ws = this.provider.ws;
    if (ws === null || !this.provider.wsconnected) {
      return false;
    }
    ws.send(encodeEvent({ type: 'name', display_name: displayName }));
    return true;
  }

  /**
   * The local document's content worth offering as a copy, once the state is `stale`
   * (the server will never merge it: DESIGN decision 4). `null` in any other state, or
   * when the snapshot callback finds nothing.
   */
  unsyncedText(): string | null {
    return this._state.status === 'stale' ? this._snapshot(this.ydoc) : null;
  }

  /**
   * Close the connection for good: the provider is destroyed (its awareness state is
   * withdrawn first), pending saves are rejected, the state becomes `closed` (unless
   * already terminal). The `Y.Doc` and the awareness are left to their owner.
   */
  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._rejectSaves(() => true, 'The connection was disposed.');
    this._apply({ type: 'dispose' });
    this._isDisposed = true;
    if (typeof window !== 'undefined') {
      window.removeEventListener('online', this._onOnline);
      window.removeEventListener('offline', this._onOffline);
    }
    this.provider.off('status', this._onStatus);
    this.provider.off('sync', this._onSync);
    this.provider.off('connection-close', this._onConnectionClose);
    this.provider.off('closed', this._onClosed);
    this.ydoc.off('update', this._onLocalUpdate);
    this.provider.destroy();
    Signal.clearData(this);
  }

  private _apply(input: ConnectionInput): void {
    const old = this._state;
    const state = nextState(old, input);
    if (state === old) {
      return;
    }
    this._state = state;
    if (isTerminal(state)) {
      // No reconnect can help: stop y-websocket (it stops by itself on 44xx closes,
      // but not after a `reload` event that arrives before the close).
      this.provider.shouldConnect = false;
      this._rejectSaves(
        () => true,
        `Cannot save: ${state.status === 'stale' || state.status === 'closed' ? state.reason : ''}`
      );
    } else if (state.status === 'connected' && state.synced) {
      this._pendingSaves.forEach(pending => {
        if (!pending.sent) {
          this._sendSave(pending);
        }
      });
    }
    this._stateChanged.emit(state);
  }

  private _isSynced(): boolean {
    return this._state.status === 'connected' && this._state.synced;
  }

  private _sendSave(pending: IPendingSave): void {
    const ws = this.provider.ws;
    if (ws === null || !this.provider.wsconnected) {
      return;
    }
    ws.send(encodeEvent({ type: 'save', id: pending.id }));
    pending.sent = true;
  }

  /** Settle one pending save: with its `saved` event, or with an error. */
  private _settleSave(id: string, outcome: ISavedEvent | Error): void {
    const pending = this._pendingSaves.get(id);
    if (pending === undefined) {
      return;
    }
    this._pendingSaves.delete(id);
    clearTimeout(pending.timer);
    if (outcome instanceof Error) {
      pending.reject(outcome);
    } else {
      pending.resolve(outcome);
    }
  }

  private _rejectSaves(
    which: (pending: IPendingSave) => boolean,
    message: string
  ): void {
    Array.from(this._pendingSaves.values())
      .filter(which)
      .forEach(pending => this._settleSave(pending.id, new SaveError(message)));
  }

  private _onEventMessage(decoder: decoding.Decoder): void {
    let event: ServerEvent | null;
    try {
      event = readEvent(decoder);
    } catch (error) {
      // Safe to go on: the event is dropped, the Yjs sync is untouched. Throwing here
      // would escape y-websocket's onmessage.
      console.warn(
        `jupyter-collab: ignored a malformed event in room ${this.session.room}`,
        error
      );
      return;
    }
    if (event === null) {
      return; // an event type this client does not know yet
    }
    if (event.type === 'saved' && typeof event.id === 'string') {
      this._settleSave(event.id, event);
    } else if (event.type === 'error' && typeof event.id === 'string') {
      this._settleSave(
        event.id,
        new SaveError(event.reason || 'The server could not save the document.')
      );
    } else if (event.type === 'role') {
      this._setRole(event.role);
    } else if (event.type === 'reload') {
      this._apply({
        type: 'reload',
        epoch: event.epoch,
        docId: event.doc_id ?? null,
        reason: event.reason
      });
    }
    this._eventReceived.emit(event);
  }

  /** Send a local change, or hold it back while this person may not edit. */
  private _onLocalUpdate = (update: Uint8Array, origin: unknown): void => {
    if (origin === this.provider) {
      return; // from the room
    }
    if (canEdit(this._role)) {
      this.provider._updateHandler(update, origin);
      return;
    }
    if (this._held.length === 0) {
      console.debug(
        `jupyter-collab: a local change to ${this.session.path} stays in this browser ` +
          `(${this._role}s do not edit the shared document)`
      );
    }
    this._held.push(update);
  };

  /**
   * Answer the server's sync step 1 as a reader: with an empty update, since everything
   * this client has that the room lacks is held back.
   */
  private _answerSyncAsReader(
    encoder: encoding.Encoder,
    decoder: decoding.Decoder
  ): void {
    decoding.readVarUint(decoder); // the message type: step 1
    decoding.readVarUint8Array(decoder); // the room's state vector
    encoding.writeVarUint(encoder, MessageKind.SYNC);
    encoding.writeVarUint(encoder, syncProtocol.messageYjsSyncStep2);
    encoding.writeVarUint8Array(encoder, EMPTY_UPDATE);
  }

  /**
   * An owner changed this person's role. Raised to editor, the held-back changes go
   * out first: later changes build on them. Offline, the next sync sends them.
   */
  private _setRole(role: string): void {
    this._role = role;
    if (!canEdit(role) || this._held.length === 0) {
      return;
    }
    const held = Y.mergeUpdates(this._held);
    this._held = [];
    this.provider._updateHandler(held, null);
  }

  private _onStatus = (event: {
    status: 'connected' | 'disconnected' | 'connecting';
  }): void => {
    this._apply({ type: 'status', status: event.status });
  };

  private _onSync = (synced: boolean): void => {
    this._apply({ type: 'sync', synced });
  };

  private _onConnectionClose = (event: CloseEvent | null): void => {
    // A request already sent will get no answer on a new socket.
    this._rejectSaves(
      pending => pending.sent,
      'The connection was lost before the server confirmed the save.'
    );
    this._apply({
      type: 'connection-close',
      code: event === null ? null : event.code,
      reason: event === null ? '' : event.reason
    });
  };

  private _onClosed = (event: { code: number; reason: string }): void => {
    this._apply({ type: 'closed', code: event.code, reason: event.reason });
  };

  private _onOnline = (): void => {
    this._apply({ type: 'network', online: true });
  };

  private _onOffline = (): void => {
    this._apply({ type: 'network', online: false });
  };

  private _state: ConnectionState = INITIAL_STATE;
  private _role: string;
  private _held: Uint8Array[] = [];
  private _isDisposed = false;
  private _saveCount = 0;
  private readonly _saveTimeoutMs: number;
  private readonly _snapshot: DocumentSnapshot;
  private readonly _pendingSaves = new Map<string, IPendingSave>();
  private readonly _stateChanged = new Signal<this, ConnectionState>(this);
  private readonly _eventReceived = new Signal<this, ServerEvent>(this);
}
