/**
 * One document's live connection to its room: a y-websocket provider plus our JSON
 * events and the connection state. Save requests wait in `saves.ts`; what this browser
 * sends of its own changes, by role, is `outgoing.ts`; the room's URL is `address.ts`.
 *
 * Knows nothing of JupyterLab's application, documents or widgets: the caller brings the
 * session, the `Y.Doc` and the server settings, and listens to signals.
 */
import { ServerConnection } from '@jupyterlab/services';
import { ISignal, Signal } from '@lumino/signaling';
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import { WebsocketProvider } from 'y-websocket';
import { Awareness } from 'y-protocols/awareness';
import * as Y from 'yjs';

import { ISession } from '../api';
import { MessageKind } from '../protocol';
import { roomAddress } from './address';
import {
  ClientEvent,
  encodeEvent,
  ICommentRequest,
  IRunRequest,
  ISavedEvent,
  readEvent,
  ServerEvent
} from './events';
import { OutgoingChanges } from './outgoing';
import { PendingSaves, SaveError } from './saves';
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
 * A document's connection to its room.
 *
 * An adapter: y-websocket speaks the Yjs protocol and reconnects with backoff; this class
 * adds what our server adds (the epoch parameter, kind-4 events, close codes that end
 * the connection) and turns y-websocket's loose events into one `ConnectionState`.
 * Cross-tab BroadcastChannel sync is off: it would bypass the server's epoch check.
 *
 * A reader (viewer, commenter) never sends the document anything: their local changes
 * are held back (`heldBack`; see `OutgoingChanges`).
 */
export class CollabConnection {
  constructor(options: ICollabConnectionOptions) {
    this.session = options.session;
    this.ydoc = options.ydoc;
    const saveTimeoutMs = options.saveTimeoutMs ?? 10_000;
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
    // Local changes go out through `_outgoing` (held back for readers), not straight out.
    this._outgoing = new OutgoingChanges(
      this.provider,
      options.ydoc,
      options.session.role,
      options.session.path
    );
    this._saves = new PendingSaves({
      send: id => this._send({ type: 'save', id }),
      timeoutMs: saveTimeoutMs
    });
    // Per-provider copies: replacing handlers here affects no other provider.
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
    return this._outgoing.heldBack;
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
    return this._saves.add(id, this._isSynced());
  }

  /**
   * Ask the room to lock (or unlock) a notebook cell; owners only. The answer is a
   * `locks` event to everyone, or an `error` event (see `eventReceived`).
   *
   * Returns:
   *   Whether the request was sent (the connection is open and synced).
   */
  requestLock(cellId: string, locked: boolean): boolean {
    return this._isSynced() && this._send({ type: 'lock', cell: cellId, locked });
  }

  /**
   * Send a comment request (docs/PROTOCOL.md, "Comments"); the answer is a `comment` or
   * `error` event carrying its id (see `eventReceived`).
   *
   * Returns:
   *   Whether the request was sent (the connection is open and synced).
   */
  requestComment(request: ICommentRequest): boolean {
    return this._isSynced() && this._send(request);
  }

  /**
   * Tell the room this person's JupyterLab started running a notebook cell, or how the
   * run ended; everyone in the notebook sees "run by ..." on the cell (a `run` event).
   *
   * Returns:
   *   Whether it was sent (the connection is open and synced).
   */
  reportRun(request: Omit<IRunRequest, 'type'>): boolean {
    return this._isSynced() && this._send({ type: 'run', ...request });
  }

  /**
   * Present the document to everyone in it (owners only), or stop; the answer is a
   * `presenting` event to everyone, or an `error` event.
   *
   * Returns:
   *   Whether it was sent (the connection is open and synced).
   */
  requestPresent(on: boolean, hold = false): boolean {
    return this._isSynced() && this._send({ type: 'present', on, hold });
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
    return this._send({ type: 'name', display_name: displayName });
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
    this._saves.rejectAll('The connection was disposed.');
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
    this._outgoing.dispose();
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
      this._saves.rejectAll(
        `Cannot save: ${state.status === 'stale' || state.status === 'closed' ? state.reason : ''}`
      );
    } else if (state.status === 'connected' && state.synced) {
      this._saves.sendUnsent();
    }
    this._stateChanged.emit(state);
  }

  private _isSynced(): boolean {
    return this._state.status === 'connected' && this._state.synced;
  }

  /** Send one of our events, if the socket is open; returns whether it went out. */
  private _send(event: ClientEvent): boolean {
    const ws = this.provider.ws;
    if (ws === null || !this.provider.wsconnected) {
      return false;
    }
    ws.send(encodeEvent(event));
    return true;
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
    this._saves.receive(event);
    if (event.type === 'role') {
      this._outgoing.setRole(event.role);
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
    this._saves.rejectSent(
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
  private _isDisposed = false;
  private _saveCount = 0;
  private readonly _snapshot: DocumentSnapshot;
  private readonly _outgoing: OutgoingChanges;
  private readonly _saves: PendingSaves;
  private readonly _stateChanged = new Signal<this, ConnectionState>(this);
  private readonly _eventReceived = new Signal<this, ServerEvent>(this);
}
