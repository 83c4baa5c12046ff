/**
 * The comment threads of one live document, as this person may see them.
 *
 * Threads come from the room: a `comments` snapshot after the first sync (and after a
 * role change), then a `comment` event whenever one changes, whoever changed it. Actions
 * send a request with an id and settle with the `comment` event carrying that id, or
 * fail with the server's reason from the `error` event carrying it. The server decides
 * everything (who may write, who the author is); this model only keeps what it said.
 *
 * Unread: a thread is unread while it holds a message by someone else newer than the
 * last time this person looked at it. Those times are kept in `localStorage` per
 * document, so what happened while they were away shows as unread when they come back.
 */
import { ISignal, Signal } from '@lumino/signaling';

import {
  CommentAnchor,
  CommentRequestType,
  ICommentRequest,
  ICommentThread,
  ServerEvent
} from '../connection';

/** What the model needs of a connection (a `CollabConnection` has it). */
export interface ICommentsConnection {
  readonly eventReceived: ISignal<any, ServerEvent>;
  requestComment(request: ICommentRequest): boolean;
}

/** A comment request the server refused, or one that could not be sent or answered. */
export class CommentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CommentError';
  }
}

/** The panel's views of the threads. */
export type CommentFilter = 'open' | 'resolved' | 'mine' | 'mentions' | 'detached';

/** Where the last-seen times are kept; `localStorage` in a browser. */
export interface ISeenStore {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

export interface ICommentsModelOptions {
  readonly connection: ICommentsConnection;
  /** This person (threads they wrote are "mine"; their own messages are never unread). */
  readonly username: string;
  /** Names the document for the last-seen times (its path; its doc id would do). */
  readonly key: string;
  /** How long a request waits for its answer, in ms. */
  readonly timeoutMs?: number;
  readonly seen?: ISeenStore | null;
}

interface IPending {
  readonly resolve: (thread: ICommentThread) => void;
  readonly reject: (error: Error) => void;
  readonly timer: ReturnType<typeof setTimeout>;
}

/**
 * The threads of one document and the requests that change them.
 */
export class CommentsModel {
  constructor(options: ICommentsModelOptions) {
    this._connection = options.connection;
    this.username = options.username;
    this._timeoutMs = options.timeoutMs ?? 30000;
    this._seen = options.seen === undefined ? storage() : options.seen;
    this._seenKey = `jupyter-collab:comments-seen:${options.key}`;
    this._lastSeen = this._readSeen();
    this._connection.eventReceived.connect(this._onEvent, this);
  }

  readonly username: string;

  /** Emits after the threads changed (a snapshot, a thread, or what was read). */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /** Emits each thread changed by someone else, once the first snapshot is in. */
  get threadChanged(): ISignal<this, ICommentThread> {
    return this._threadChanged;
  }

  /** Whether the room sent its threads yet. */
  get loaded(): boolean {
    return this._loaded;
  }

  /** Every thread, oldest first. */
  get threads(): ICommentThread[] {
    return [...this._threads.values()];
  }

  thread(id: string): ICommentThread | undefined {
    return this._threads.get(id);
  }

  /** Whether a thread holds all its messages (the snapshot has first messages only). */
  isComplete(thread: ICommentThread): boolean {
    return (thread.message_count ?? thread.messages.length) <= thread.messages.length;
  }

  /** The open, attached threads on a notebook cell (a whole-cell or a range anchor). */
  openOnCell(cellId: string): ICommentThread[] {
    return this.threads.filter(
      t => t.status === 'open' && !t.detached && t.anchor.cell_id === cellId
    );
  }

  /** The threads a filter of the panel shows. */
  filtered(filter: CommentFilter): ICommentThread[] {
    const me = this.username;
    switch (filter) {
      case 'open':
        return this.threads.filter(t => t.status === 'open' && !t.detached);
      case 'resolved':
        return this.threads.filter(t => t.status === 'resolved');
      case 'mine':
        return this.threads.filter(
          t =>
            t.author === me ||
            (t.participants ?? []).includes(me) ||
            t.messages.some(m => m.author === me)
        );
      case 'mentions':
        return this.threads.filter(
          t =>
            (t.mentioned ?? []).includes(me) ||
            t.messages.some(m => m.mentions.includes(me))
        );
      case 'detached':
        return this.threads.filter(t => t.detached);
    }
  }

  /** Whether a thread holds a message by someone else this person has not seen. */
  isUnread(thread: ICommentThread): boolean {
    const since = this._lastSeen.threads[thread.id] ?? this._lastSeen.since;
    if (!this.isComplete(thread)) {
      // only the last message is known: news if someone else wrote it since
      return (
        typeof thread.last_at === 'number' &&
        thread.last_at > since &&
        thread.last_author !== this.username
      );
    }
    return thread.messages.some(
      m => m.author !== this.username && !m.deleted && m.created_at > since
    );
  }

  /** How many threads are unread. */
  get unreadCount(): number {
    return this.threads.filter(t => this.isUnread(t)).length;
  }

  /** This person looked at a thread: its messages so far are read. */
  markRead(threadId: string): void {
    const thread = this._threads.get(threadId);
    if (thread === undefined || !this.isUnread(thread)) {
      return;
    }
    const newest = Math.max(thread.last_at ?? 0, ...thread.messages.map(m => m.created_at));
    this._lastSeen.threads[threadId] = newest;
    this._writeSeen();
    this._changed.emit();
  }

  // -- requests ------------------------------------------------------------------------

  create(
    anchor: CommentAnchor,
    body: string,
    options: { mentions?: string[]; private?: boolean; suggestion?: string } = {}
  ): Promise<ICommentThread> {
    return this._request('comment.create', {
      anchor,
      body,
      mentions: options.mentions ?? [],
      private: options.private ?? false,
      ...(options.suggestion === undefined ? {} : { suggestion: options.suggestion })
    });
  }

  reply(thread: string, body: string, mentions: string[] = []): Promise<ICommentThread> {
    return this._request('comment.reply', { thread, body, mentions });
  }

  edit(
    thread: string,
    message: string,
    body: string,
    mentions: string[] = []
  ): Promise<ICommentThread> {
    return this._request('comment.edit', { thread, message, body, mentions });
  }

  delete(thread: string, message: string): Promise<ICommentThread> {
    return this._request('comment.delete', { thread, message });
  }

  resolve(thread: string): Promise<ICommentThread> {
    return this._request('comment.resolve', { thread });
  }

  reopen(thread: string): Promise<ICommentThread> {
    return this._request('comment.reopen', { thread });
  }

  reattach(thread: string, anchor: CommentAnchor): Promise<ICommentThread> {
    return this._request('comment.reattach', { thread, anchor });
  }

  accept(thread: string): Promise<ICommentThread> {
    return this._request('comment.accept', { thread });
  }

  reject(thread: string): Promise<ICommentThread> {
    return this._request('comment.reject', { thread });
  }

  undo(thread: string): Promise<ICommentThread> {
    return this._request('comment.undo', { thread });
  }

  /** Bring all the messages of a thread (the snapshot has its first only). */
  load(thread: string): Promise<ICommentThread> {
    return this._request('comment.get', { thread });
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this._connection.eventReceived.disconnect(this._onEvent, this);
    for (const [id, pending] of this._pending) {
      clearTimeout(pending.timer);
      pending.reject(new CommentError('The document was closed.'));
      this._pending.delete(id);
    }
    Signal.clearData(this);
  }

  private _request(
    type: CommentRequestType,
    fields: Omit<ICommentRequest, 'type' | 'id'>
  ): Promise<ICommentThread> {
    if (this._isDisposed) {
      return Promise.reject(new CommentError('The document was closed.'));
    }
    const id = `c${++this._count}-${Date.now().toString(36)}`;
    if (!this._connection.requestComment({ type, id, ...fields })) {
      return Promise.reject(
        new CommentError('Not connected: the comment was not sent. Try again shortly.')
      );
    }
    return new Promise<ICommentThread>((resolve, reject) => {
      const timer = setTimeout(() => {
        this._pending.delete(id);
        reject(new CommentError('The server did not answer in time.'));
      }, this._timeoutMs);
      this._pending.set(id, { resolve, reject, timer });
    });
  }

  private _onEvent(_: unknown, event: ServerEvent): void {
    switch (event.type) {
      case 'comments':
        this._threads = new Map(event.threads.map(t => [t.id, t]));
        this._loaded = true;
        this._changed.emit();
        return;
      case 'comment': {
        this._threads.set(event.thread.id, event.thread);
        const pending = typeof event.id === 'string' ? this._pending.get(event.id) : undefined;
        if (pending !== undefined && typeof event.id === 'string') {
          this._settle(event.id);
          pending.resolve(event.thread);
        } else if (this._loaded) {
          this._threadChanged.emit(event.thread);
        }
        this._changed.emit();
        return;
      }
      case 'error': {
        const pending = typeof event.id === 'string' ? this._pending.get(event.id) : undefined;
        if (pending !== undefined && typeof event.id === 'string') {
          this._settle(event.id);
          pending.reject(new CommentError(event.reason));
        }
        return;
      }
    }
  }

  private _settle(id: string): void {
    const pending = this._pending.get(id);
    if (pending !== undefined) {
      clearTimeout(pending.timer);
      this._pending.delete(id);
    }
  }

  private _readSeen(): { since: number; threads: Record<string, number> } {
    const now = Date.now() / 1000;
    try {
      const raw = this._seen?.getItem(this._seenKey);
      const parsed = raw ? JSON.parse(raw) : null;
      if (parsed && typeof parsed.since === 'number' && typeof parsed.threads === 'object') {
        return parsed;
      }
    } catch {
      // a broken record: start afresh
    }
    // The first visit: what was said before it is not news.
    const fresh = { since: now, threads: {} };
    try {
      this._seen?.setItem(this._seenKey, JSON.stringify(fresh));
    } catch {
      // storage full or refused: unread markers last for this page only
    }
    return fresh;
  }

  private _writeSeen(): void {
    try {
      this._seen?.setItem(this._seenKey, JSON.stringify(this._lastSeen));
    } catch {
      // as above
    }
  }

  private readonly _connection: ICommentsConnection;
  private readonly _timeoutMs: number;
  private readonly _seen: ISeenStore | null;
  private readonly _seenKey: string;
  private _lastSeen: { since: number; threads: Record<string, number> };
  private _threads = new Map<string, ICommentThread>();
  private _loaded = false;
  private _count = 0;
  private _isDisposed = false;
  private readonly _pending = new Map<string, IPending>();
  private readonly _changed = new Signal<this, void>(this);
  private readonly _threadChanged = new Signal<this, ICommentThread>(this);
}

function storage(): ISeenStore | null {
  try {
    return typeof window !== 'undefined' ? window.localStorage : null;
  } catch {
    return null;
  }
}
