/**
 * Save requests waiting for the room's answer.
 *
 * Each request is settled once: by the `saved` event carrying its id, by an `error`
 * event carrying its id, by the connection losing the socket it was sent on, by a
 * terminal state or a dispose, or by a timeout. No sockets here: the connection passes
 * a `send` callback and says when the document is synced or the socket is gone.
 */
import { ISavedEvent, ServerEvent } from './events';

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

/**
 * Constructor options of `PendingSaves`.
 */
export interface IPendingSavesOptions {
  /**
   * Send the `save` event with this id to the room. Returns whether it went out (the
   * socket is open); one that did not is sent again by `sendUnsent`.
   */
  readonly send: (id: string) => boolean;
  /** How long a request waits for its answer, in ms. */
  readonly timeoutMs: number;
}

interface IPendingSave {
  readonly id: string;
  sent: boolean;
  readonly resolve: (event: ISavedEvent) => void;
  readonly reject: (error: Error) => void;
  readonly timer: ReturnType<typeof setTimeout>;
}

/**
 * The save requests of one connection that have no answer yet.
 */
export class PendingSaves {
  constructor(options: IPendingSavesOptions) {
    this._send = options.send;
    this._timeoutMs = options.timeoutMs;
  }

  /** How many requests wait for an answer. */
  get size(): number {
    return this._pending.size;
  }

  /**
   * Add a request; send it now when `sendNow` (the document is synced), else at the
   * next `sendUnsent`.
   *
   * Returns:
   *   The `saved` event answering it.
   *
   * Raises (rejects with):
   *   SaveError: see the module notes; the timeout's message names `timeoutMs`.
   */
  add(id: string, sendNow: boolean): Promise<ISavedEvent> {
    return new Promise<ISavedEvent>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.settle(
          id,
          new SaveError(
            `The server did not confirm the save within ${this._timeoutMs} ms.`
          )
        );
      }, this._timeoutMs);
      const pending: IPendingSave = { id, sent: false, resolve, reject, timer };
      this._pending.set(id, pending);
      if (sendNow) {
        this._sendOne(pending);
      }
    });
  }

  /** Send every request not sent yet: the document just became synced. */
  sendUnsent(): void {
    this._pending.forEach(pending => {
      if (!pending.sent) {
        this._sendOne(pending);
      }
    });
  }

  /**
   * Settle the request a server event answers: a `saved` or an `error` event with a
   * request id. Other events, and answers to no request of ours, are ignored.
   */
  receive(event: ServerEvent): void {
    if (event.type === 'saved' && typeof event.id === 'string') {
      this.settle(event.id, event);
    } else if (event.type === 'error' && typeof event.id === 'string') {
      this.settle(
        event.id,
        new SaveError(event.reason || 'The server could not save the document.')
      );
    }
  }

  /** Settle one request: with its `saved` event, or with an error. */
  settle(id: string, outcome: ISavedEvent | Error): void {
    const pending = this._pending.get(id);
    if (pending === undefined) {
      return;
    }
    this._pending.delete(id);
    clearTimeout(pending.timer);
    if (outcome instanceof Error) {
      pending.reject(outcome);
    } else {
      pending.resolve(outcome);
    }
  }

  /**
   * Reject the requests already sent: their socket closed, and a new socket will get no
   * answer to them. Those not sent yet keep waiting.
   */
  rejectSent(message: string): void {
    this._rejectWhere(pending => pending.sent, message);
  }

  /** Reject every request (the state is terminal, or the connection was disposed). */
  rejectAll(message: string): void {
    this._rejectWhere(() => true, message);
  }

  private _sendOne(pending: IPendingSave): void {
    if (this._send(pending.id)) {
      pending.sent = true;
    }
  }

  private _rejectWhere(
    which: (pending: IPendingSave) => boolean,
    message: string
  ): void {
    Array.from(this._pending.values())
      .filter(which)
      .forEach(pending => this.settle(pending.id, new SaveError(message)));
  }

  private readonly _send: IPendingSavesOptions['send'];
  private readonly _timeoutMs: number;
  private readonly _pending = new Map<string, IPendingSave>();
}
