/**
 * Presence as plain data: the server's presence feed (docs/PROTOCOL.md, "The presence
 * feed") folded into people and their places, and a notebook's awareness states turned
 * into who is in which cell. No DOM, no JupyterLab: every rule here is testable alone.
 */
import { ISignal, Signal } from '@lumino/signaling';

import { AwarenessUser, isRecord, isSafeColor, labelOf, readUser } from '../cursors/model';
import {
  applyActivity,
  IActivityChange,
  IActivityMessage,
  parseActivity
} from '../teaching/activity';

/**
 * One connection to one document, as the presence feed sends it.
 */
export interface IPresenceEntry {
  /** Stable for the connection's life. */
  readonly id: string;
  /** Its awareness client id, to find its cursor; `null` before its first state. */
  readonly client_id: number | null;
  readonly user: AwarenessUser;
  readonly path: string;
  readonly type: 'notebook' | 'file';
  /** The notebook cell id it is in, or `null`. */
  readonly cell: string | null;
  /** That cell's 0-based index when the server last looked, or `null`. */
  readonly cell_index: number | null;
  readonly idle: boolean;
  /** The connection's role on the document (`null` from older servers). */
  readonly role: string | null;
}

/**
 * A message of the presence feed.
 */
export type PresenceMessage =
  | {
      readonly type: 'snapshot';
      readonly people: IPresenceEntry[];
      /** Whether this person owns the server (older servers: `false`). */
      readonly owner?: boolean;
    }
  | {
      readonly type: 'update';
      readonly set: IPresenceEntry[];
      readonly gone: string[];
    }
  | INotice
  | IActivityChange;

/**
 * Told to this person only (docs/PROTOCOL.md, "The presence feed"): someone mentioned
 * them in a comment, or replied in a thread they wrote in.
 */
export interface INotice {
  readonly type: 'notice';
  readonly kind: 'mention' | 'reply';
  readonly path: string;
  readonly thread: string;
  readonly by: string;
  readonly excerpt: string;
}

/**
 * One person and every place they are connected to (tabs, documents).
 */
export interface IPerson {
  readonly username: string;
  /** Display name, else name, else username. */
  readonly label: string;
  readonly initials: string;
  /** A validated CSS colour. */
  readonly color: string;
  readonly avatarUrl: string | null;
  /** Whether every one of their connections is idle. */
  readonly idle: boolean;
  /** Their connections, the active ones first, then by path. */
  readonly places: IPresenceEntry[];
}

/**
 * Narrow one untrusted feed message.
 *
 * Raises:
 *   TypeError: the message is not a snapshot or update of well-formed entries.
 */
export function parsePresenceMessage(data: unknown): PresenceMessage {
  const value = typeof data === 'string' ? JSON.parse(data) : data;
  if (isRecord(value) && value.type === 'snapshot' && Array.isArray(value.people)) {
    return { type: 'snapshot', people: value.people.map(toEntry), owner: value.owner === true };
  }
  if (isRecord(value) && value.type === 'activity') {
    return parseActivity(value);
  }
  if (
    isRecord(value) &&
    value.type === 'update' &&
    Array.isArray(value.set) &&
    Array.isArray(value.gone) &&
    value.gone.every(id => typeof id === 'string')
  ) {
    return { type: 'update', set: value.set.map(toEntry), gone: value.gone };
  }
  if (
    isRecord(value) &&
    value.type === 'notice' &&
    (value.kind === 'mention' || value.kind === 'reply') &&
    typeof value.path === 'string' &&
    typeof value.thread === 'string' &&
    typeof value.by === 'string'
  ) {
    return {
      type: 'notice',
      kind: value.kind,
      path: value.path,
      thread: value.thread,
      by: value.by,
      excerpt: typeof value.excerpt === 'string' ? value.excerpt : ''
    };
  }
  throw new TypeError(
    `Not a presence feed message: ${JSON.stringify(value)}`.slice(0, 200)
  );
}

function toEntry(value: unknown): IPresenceEntry {
  const user = readUser({ user: isRecord(value) ? value.user : null });
  if (
    !isRecord(value) ||
    typeof value.id !== 'string' ||
    typeof value.path !== 'string' ||
    (value.type !== 'notebook' && value.type !== 'file') ||
    user === null
  ) {
    throw new TypeError(`Not a presence entry: ${JSON.stringify(value)}`.slice(0, 200));
  }
  return {
    id: value.id,
    client_id: Number.isInteger(value.client_id) ? (value.client_id as number) : null,
    user,
    path: value.path,
    type: value.type,
    cell: typeof value.cell === 'string' ? value.cell : null,
    cell_index: Number.isInteger(value.cell_index) ? (value.cell_index as number) : null,
    idle: value.idle === true,
    role: typeof value.role === 'string' ? value.role : null
  };
}

/**
 * Everyone on the server, kept current from the presence feed.
 */
export class PresenceModel {
  /** Emits after each applied message. */
  /** Emits each notice for this person (a mention, a reply to their thread). */
  get noticed(): ISignal<this, INotice> {
    return this._noticed;
  }

  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /** The current entries, by id. */
  get entries(): ReadonlyMap<string, IPresenceEntry> {
    return this._entries;
  }

  /**
   * What the last `changed` came from: a `snapshot` (first, or after a reconnect or a
   * membership change), an `update`, or `clear` (the feed went down).
   */
  get lastChange(): 'snapshot' | 'update' | 'clear' {
    return this._lastChange;
  }

  /** Whether this person owns the server: the feed then carries everyone's activity. */
  get owner(): boolean {
    return this._owner;
  }

  /** The latest owners' activity message (`null`: none yet, or not an owner). */
  get activity(): IActivityMessage | null {
    return this._activity;
  }

  /** Emits after each activity message (and when the feed went down). */
  get activityChanged(): ISignal<this, void> {
    return this._activityChanged;
  }

  /** Apply one feed message (a snapshot replaces everything). */
  apply(message: PresenceMessage): void {
    if (message.type === 'notice') {
      this._noticed.emit(message);
      return;
    }
    if (message.type === 'activity') {
      this._activity = applyActivity(this._activity, message);
      this._activityChanged.emit();
      return;
    }
    this._lastChange = message.type;
    if (message.type === 'snapshot') {
      this._owner = message.owner === true;
      this._entries = new Map(message.people.map(entry => [entry.id, entry]));
    } else {
      for (const id of message.gone) {
        this._entries.delete(id);
      }
      for (const entry of message.set) {
        this._entries.set(entry.id, entry);
      }
    }
    this._changed.emit();
  }

  /** Forget everyone (the feed is down: showing stale people would mislead). */
  clear(): void {
    this._lastChange = 'clear';
    if (this._activity !== null) {
      this._activity = null;
      this._activityChanged.emit();
    }
    if (this._entries.size > 0) {
      this._entries = new Map();
      this._changed.emit();
    }
  }

  /**
   * People, one per username: `me` first, then active before idle, then by name.
   */
  people(me?: string): IPerson[] {
    const byUser = new Map<string, IPresenceEntry[]>();
    for (const entry of this._entries.values()) {
      const key = entry.user.username ?? entry.id;
      byUser.set(key, [...(byUser.get(key) ?? []), entry]);
    }
    const people = [...byUser.entries()].map(([username, entries]) =>
      personOf(username, entries)
    );
    return people.sort(
      (a, b) =>
        Number(b.username === me) - Number(a.username === me) ||
        Number(a.idle) - Number(b.idle) ||
        a.label.localeCompare(b.label)
    );
  }

  private _entries = new Map<string, IPresenceEntry>();
  private _owner = false;
  private _lastChange: 'snapshot' | 'update' | 'clear' = 'clear';
  private _activity: IActivityMessage | null = null;
  private readonly _activityChanged = new Signal<this, void>(this);
  private readonly _changed = new Signal<this, void>(this);
  private readonly _noticed = new Signal<this, INotice>(this);
}

function personOf(username: string, entries: IPresenceEntry[]): IPerson {
  const places = [...entries].sort(
    (a, b) => Number(a.idle) - Number(b.idle) || a.path.localeCompare(b.path)
  );
  const user = places[0].user;
  return {
    username,
    label: labelOf(user),
    initials: initialsOf(user),
    color: isSafeColor(user.color) ? user.color : 'var(--jp-brand-color1)',
    avatarUrl: safeAvatar(user.avatar_url),
    idle: places.every(place => place.idle),
    places
  };
}

/**
 * The initials to show: the server's, else the first letters of the first two words.
 */
export function initialsOf(user: AwarenessUser): string {
  if (user.initials) {
    return user.initials.slice(0, 3);
  }
  const words = labelOf(user).split(/\s+/).filter(Boolean);
  return words.slice(0, 2).map(word => word[0].toUpperCase()).join('') || '?';
}

/** Only http(s) and same-origin avatar URLs are shown; anything else becomes initials. */
function safeAvatar(url: string | null | undefined): string | null {
  if (!url) {
    return null;
  }
  return /^(https?:\/\/|\/)/.test(url) ? url : null;
}

/**
 * Where a place is, in words: `lesson.ipynb · cell 4` (1-based for people).
 */
export function describePlace(entry: IPresenceEntry): string {
  const name = entry.path.split('/').pop() || entry.path;
  if (entry.cell_index !== null) {
    return `${name} · cell ${entry.cell_index + 1}`;
  }
  return name;
}

/**
 * Someone in a notebook cell, as its marker shows them.
 */
export interface ICellVisitor {
  readonly clientId: number;
  readonly username: string;
  readonly label: string;
  readonly initials: string;
  readonly color: string;
}

/**
 * Who is in which cell, from a notebook's awareness states. The local client is left
 * out (people know where they are); one person with two tabs in one cell counts once.
 *
 * Returns:
 *   Cell id -> visitors, in client id order.
 */
export function cellVisitors(
  states: ReadonlyMap<number, unknown>,
  localClientId: number
): Map<string, ICellVisitor[]> {
  const cells = new Map<string, ICellVisitor[]>();
  const ids = [...states.keys()].sort((a, b) => a - b);
  for (const clientId of ids) {
    const state = states.get(clientId);
    if (clientId === localClientId || !isRecord(state)) {
      continue;
    }
    const cell = state.cell;
    const user = readUser(state);
    if (typeof cell !== 'string' || cell.length === 0 || user === null) {
      continue;
    }
    const visitors = cells.get(cell) ?? [];
    const username = user.username ?? String(clientId);
    if (visitors.some(v => v.username === username)) {
      continue;
    }
    visitors.push({
      clientId,
      username,
      label: labelOf(user),
      initials: initialsOf(user),
      color: isSafeColor(user.color) ? user.color : 'var(--jp-brand-color1)'
    });
    cells.set(cell, visitors);
  }
  return cells;
}
