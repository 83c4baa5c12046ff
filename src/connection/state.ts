/**
 * The connection status a document shows, as a pure state machine.
 *
 * `nextState(state, input)` maps provider events (status, sync, connection-close,
 * closed), server events (reload) and browser hints to the next state. No sockets, no
 * timers, no signals: `CollabConnection` feeds it and emits what it returns.
 */
import { CloseCode, isPermanentCloseCode, StandardCloseCode } from '../protocol';

// also offered here, as the connection library always has
export { isPermanentCloseCode };

/**
 * Consecutive failed attempts after which a reconnecting document is shown as offline.
 */
export const OFFLINE_AFTER_ATTEMPTS = 3;

/**
 * Where a document's connection stands.
 *
 * - `connecting`: the first attempt is under way.
 * - `connected`: the socket is open; `synced` once the server's state has arrived.
 * - `reconnecting`: a connection was lost or refused; y-websocket retries with backoff.
 * - `offline`: as `reconnecting`, but after several failed attempts or while the
 *   browser says it is offline. Retries go on.
 * - `stale` (terminal): the server holds another history of this document. Reload it;
 *   local changes can only be offered as a copy (DESIGN decision 4).
 * - `closed` (terminal): the server refused the connection for good (a 4400-4499
 *   close), or the connection was disposed.
 */
export type ConnectionState =
  | { readonly status: 'connecting' }
  | { readonly status: 'connected'; readonly synced: boolean }
  | { readonly status: 'reconnecting'; readonly attempts: number }
  | { readonly status: 'offline'; readonly attempts: number }
  | {
      readonly status: 'stale';
      /** The room's current epoch, `null` when unknown or gone. */
      readonly epoch: string | null;
      /** The path's new doc id, when the server said it changed. */
      readonly docId: string | null;
      /** A sentence for people. */
      readonly reason: string;
    }
  | {
      readonly status: 'closed';
      readonly code: number;
      /** A sentence for people, derived from the code. */
      readonly reason: string;
      /** The close reason the server sent, possibly empty. */
      readonly serverReason: string;
    };

export type ConnectionStatus = ConnectionState['status'];

/**
 * What can happen to a connection.
 */
export type ConnectionInput =
  /** y-websocket `status`. */
  | {
      readonly type: 'status';
      readonly status: 'connecting' | 'connected' | 'disconnected';
    }
  /** y-websocket `sync`. */
  | { readonly type: 'sync'; readonly synced: boolean }
  /** y-websocket `connection-close`; `code` is `null` for a local close (watchdog). */
  | {
      readonly type: 'connection-close';
      readonly code: number | null;
      readonly reason: string;
    }
  /** y-websocket `closed`: it stopped reconnecting. */
  | { readonly type: 'closed'; readonly code: number; readonly reason: string }
  /** A `reload` event from the server. */
  | {
      readonly type: 'reload';
      readonly epoch: string | null;
      readonly docId: string | null;
      readonly reason: string;
    }
  /** The browser's `online` / `offline` events. */
  | { readonly type: 'network'; readonly online: boolean }
  /** The owner disposed the connection. */
  | { readonly type: 'dispose' };

/**
 * The state of a new connection.
 */
export const INITIAL_STATE: ConnectionState = { status: 'connecting' };

/**
 * Whether no input can leave `state` (the document must be reopened).
 */
export function isTerminal(state: ConnectionState): boolean {
  return state.status === 'stale' || state.status === 'closed';
}

/**
 * A sentence for people about why the server closed a connection.
 */
export function describeCloseCode(code: number): string {
  switch (code) {
    case CloseCode.BAD_MESSAGE:
      return 'The server rejected a message from this client. Reopen the document.';
    case CloseCode.FORBIDDEN:
      return 'You are not allowed to open this document.';
    case CloseCode.NOT_FOUND:
      return 'The document no longer exists on the server.';
    case CloseCode.GONE:
      return 'The document was deleted or reopened as another type.';
    case CloseCode.HANDSHAKE_TIMEOUT:
      return 'The connection timed out while joining the document. Reopen it.';
    case CloseCode.STALE_EPOCH:
      return 'The document changed on the server: reload it. Unsaved local changes can be kept as a copy.';
    case CloseCode.TOO_LARGE:
      return 'A change was too large for the server to accept. Reopen the document.';
    case CloseCode.INTERNAL:
      return 'The server hit an unexpected error.';
    case StandardCloseCode.NORMAL:
      return 'The connection was closed.';
    default:
      return `The connection was closed (code ${code}).`;
  }
}

/**
 * The state after `input`. Returns `state` itself when nothing changes, so callers can
 * compare by identity.
 */
export function nextState(
  state: ConnectionState,
  input: ConnectionInput
): ConnectionState {
  if (isTerminal(state)) {
    return state;
  }
  switch (input.type) {
    case 'reload':
      return {
        status: 'stale',
        epoch: input.epoch,
        docId: input.docId,
        reason: input.reason || describeCloseCode(CloseCode.STALE_EPOCH)
      };
    case 'closed':
      return terminalClose(input.code, input.reason);
    case 'dispose':
      return {
        status: 'closed',
        code: StandardCloseCode.NORMAL,
        reason: describeCloseCode(StandardCloseCode.NORMAL),
        serverReason: ''
      };
    case 'connection-close':
      if (input.code !== null && isPermanentCloseCode(input.code)) {
        return terminalClose(input.code, input.reason);
      }
      return failedAttempt(state);
    case 'status':
      if (input.status === 'connected') {
        return state.status === 'connected' ? state : connected(false);
      }
      // `connecting` starts each retry and `disconnected` follows a connection-close:
      // neither says more than the state already does.
      return state;
    case 'sync':
      if (state.status !== 'connected' || state.synced === input.synced) {
        return state;
      }
      return connected(input.synced);
    case 'network':
      if (!input.online) {
        return state.status === 'offline'
          ? state
          : { status: 'offline', attempts: attemptsOf(state) };
      }
      return state.status === 'offline'
        ? { status: 'reconnecting', attempts: state.attempts }
        : state;
  }
}

function connected(synced: boolean): ConnectionState {
  return { status: 'connected', synced };
}

function attemptsOf(state: ConnectionState): number {
  return state.status === 'reconnecting' || state.status === 'offline'
    ? state.attempts
    : 0;
}

function failedAttempt(state: ConnectionState): ConnectionState {
  const attempts = attemptsOf(state) + 1;
  if (state.status === 'offline' || attempts >= OFFLINE_AFTER_ATTEMPTS) {
    return { status: 'offline', attempts };
  }
  return { status: 'reconnecting', attempts };
}

function terminalClose(code: number, serverReason: string): ConnectionState {
  if (code === CloseCode.STALE_EPOCH) {
    // a 4409 without a preceding `reload` event (or from a custom shouldReconnect)
    return {
      status: 'stale',
      epoch: null,
      docId: null,
      reason: describeCloseCode(code)
    };
  }
  return {
    status: 'closed',
    code,
    reason: describeCloseCode(code),
    serverReason
  };
}
