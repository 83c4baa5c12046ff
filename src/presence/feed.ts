/**
 * The presence feed websocket (`api/collab/presence`), reconnecting by itself, feeding a
 * `PresenceModel`.
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';
import { IDisposable } from '@lumino/disposable';

import { isPermanentCloseCode, StandardCloseCode } from '../protocol';
import { parsePresenceMessage, PresenceModel } from './model';

/**
 * Constructor options of `PresenceFeed`.
 */
export interface IPresenceFeedOptions {
  readonly model: PresenceModel;
  readonly serverSettings: ServerConnection.ISettings;
  /** First reconnect delay in ms, doubled up to `maxDelayMs` (default 1000). */
  readonly minDelayMs?: number;
  /** Longest reconnect delay in ms (default 30000). */
  readonly maxDelayMs?: number;
}

/**
 * The feed's URL: the token goes in the query only outside a browser (`appendToken`).
 */
export function presenceUrl(
  settings: Pick<ServerConnection.ISettings, 'wsUrl' | 'token' | 'appendToken'>
): string {
  const url = URLExt.join(settings.wsUrl, 'api/collab/presence');
  if (settings.appendToken && settings.token) {
    return `${url}?token=${encodeURIComponent(settings.token)}`;
  }
  return url;
}

/**
 * Keeps one feed socket open while not disposed. A close with a 44xx code (the server
 * refused us: permissions, bad input) is final; anything else reconnects with backoff.
 * While disconnected the model is empty: stale people would mislead.
 */
export class PresenceFeed implements IDisposable {
  constructor(options: IPresenceFeedOptions) {
    this._model = options.model;
    this._settings = options.serverSettings;
    this._minDelay = options.minDelayMs ?? 1000;
    this._maxDelay = options.maxDelayMs ?? 30000;
    this._delay = this._minDelay;
    this._open();
  }

  /** Whether the socket is open and the snapshot arrived. */
  get connected(): boolean {
    return this._connected;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    clearTimeout(this._timer);
    this._socket?.close(StandardCloseCode.NORMAL, 'closed');
    this._socket = null;
  }

  private _open(): void {
    const socket = new this._settings.WebSocket(presenceUrl(this._settings));
    this._socket = socket;
    socket.onmessage = event => {
      let message;
      try {
        message = parsePresenceMessage(event.data);
      } catch (error) {
        console.warn('jupyter-collab: ignoring a bad presence message:', error);
        return;
      }
      if (message.type === 'snapshot') {
        this._connected = true;
        this._delay = this._minDelay;
      }
      this._model.apply(message);
    };
    socket.onclose = event => {
      this._connected = false;
      this._model.clear();
      if (this._isDisposed || this._socket !== socket) {
        return;
      }
      this._socket = null;
      if (isPermanentCloseCode(event.code)) {
        console.warn(
          `jupyter-collab: the presence feed was refused (${event.code} ${event.reason})`
        );
        return;
      }
      this._timer = setTimeout(() => this._open(), this._delay);
      this._delay = Math.min(this._delay * 2, this._maxDelay);
    };
  }

  private readonly _model: PresenceModel;
  private readonly _settings: ServerConnection.ISettings;
  private readonly _minDelay: number;
  private readonly _maxDelay: number;
  private _delay: number;
  private _socket: WebSocket | null = null;
  private _timer: ReturnType<typeof setTimeout> | undefined = undefined;
  private _connected = false;
  private _isDisposed = false;
}
