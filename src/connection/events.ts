/**
 * JSON events: message kind 4 of the room websocket (docs/PROTOCOL.md, "Events").
 *
 * Bytes <-> typed events, with type guards for what the server sends. Pure: no sockets,
 * no providers.
 */
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';

import { MessageKind } from '../protocol';

/**
 * A JSON value, as the `id` of a save request may be any.
 */
export type JSONValue =
  | string
  | number
  | boolean
  | null
  | JSONValue[]
  | { [key: string]: JSONValue };

/**
 * The document was written to disk. `id` is `null` for the broadcast to every client, or
 * the id of the `save` request this answers (sent to the requester only).
 */
export interface ISavedEvent {
  readonly type: 'saved';
  readonly id: JSONValue;
  readonly path: string;
  /** Identifies the file version on disk; opaque. */
  readonly fingerprint: string;
}

/**
 * This client's document belongs to a history the server no longer holds; a 4409 close
 * follows at once. The client must open a new session and a fresh `Y.Doc`.
 */
export interface IReloadEvent {
  readonly type: 'reload';
  /** The room's current epoch, or `null` when the server has no history for the doc id. */
  readonly epoch: string | null;
  /** A sentence for people. */
  readonly reason: string;
  /** Present when the path now has another document. */
  readonly doc_id?: string;
}

/**
 * A request failed (`id` is its id), or the server did not know an event type (`id` is
 * `null`). The connection stays open.
 */
export interface IErrorEvent {
  readonly type: 'error';
  readonly id: JSONValue;
  /** A sentence for people. */
  readonly reason: string;
}

/**
 * The document's file was renamed or moved (itself or a folder above it); the room and
 * the connection stay the same.
 */
export interface IRenamedEvent {
  readonly type: 'renamed';
  /** The new path, relative to the server root. */
  readonly path: string;
}

/**
 * An owner changed this client's role; it applies from the next message on.
 */
export interface IRoleEvent {
  readonly type: 'role';
  readonly role: Role;
}

/** The roles, weakest first (docs/PROTOCOL.md, "Roles"). */
export const ROLES = ['viewer', 'commenter', 'editor', 'owner'] as const;
export type Role = (typeof ROLES)[number];

/** Whether `role` may change the document. */
export function canEdit(role: string): boolean {
  return role === 'editor' || role === 'owner';
}

/**
 * The locked cells of a notebook changed (and, on join, which are locked).
 */
export interface ILocksEvent {
  readonly type: 'locks';
  /** The ids of every locked cell. */
  readonly cells: string[];
}

/**
 * Where a comment thread points (docs/PROTOCOL.md, "Comments"): a whole notebook cell,
 * or a range of a cell's or a text file's text as two Yjs relative positions (base64).
 * `quote` is what it covered when it was made.
 */
export type CommentAnchor =
  | {
      readonly kind: 'cell';
      readonly cell_id: string;
      readonly quote?: string;
    }
  | {
      readonly kind: 'range';
      readonly cell_id?: string;
      readonly start: string;
      readonly end: string;
      readonly quote?: string;
    };

/** One message of a thread; a deleted one keeps its place with an empty body. */
export interface ICommentMessage {
  readonly id: string;
  readonly author: string;
  readonly body: string;
  readonly mentions: string[];
  readonly created_at: number;
  readonly edited_at: number | null;
  readonly deleted: boolean;
  readonly deleted_by: string | null;
}

/** A comment thread as the server sends it. */
export interface ICommentThread {
  readonly id: string;
  readonly anchor: CommentAnchor;
  readonly author: string;
  readonly created_at: number;
  readonly private: boolean;
  readonly status: 'open' | 'resolved';
  readonly resolved_by: string | null;
  readonly resolved_at: number | null;
  readonly detached: boolean;
  /** Text proposed in place of what the anchor covers, if the thread suggests a change. */
  readonly suggestion: string | null;
  readonly suggestion_state: 'open' | 'accepted' | 'rejected' | null;
  readonly suggestion_decided_by?: string | null;
  /**
   * Its messages: all of them in a `comment` event, the first only in the `comments`
   * snapshot (`message_count` says how many there are; `comment.get` brings them all).
   */
  readonly messages: ICommentMessage[];
  readonly message_count?: number;
  /** Who wrote in it, and who is mentioned in it (usernames). */
  readonly participants?: string[];
  readonly mentioned?: string[];
  /** The author and time of its last message not deleted (`null`: none). */
  readonly last_author?: string | null;
  readonly last_at?: number | null;
}

/** Every thread this client may see: after its first sync, and after its role changed. */
export interface ICommentsEvent {
  readonly type: 'comments';
  readonly threads: ICommentThread[];
}

/** One thread changed; `id` is the request's id for its sender, `null` for others. */
export interface ICommentEvent {
  readonly type: 'comment';
  readonly id: JSONValue;
  readonly thread: ICommentThread;
}

/** Who someone is, as the server stamps it (into awareness, runs, presenting). */
export interface IStampedUser {
  readonly username: string;
  readonly display_name?: string;
  readonly name?: string;
  readonly initials?: string;
  readonly color?: string;
}

/** How a run of a cell stands (docs/PROTOCOL.md, `run`). */
export type RunStatus = 'running' | 'ok' | 'error' | 'unknown';

/** The latest run of one notebook cell: who ran it, when, how it ended. */
export interface IRun {
  readonly cell: string;
  readonly by: IStampedUser;
  /** Epoch seconds. */
  readonly started: number;
  /** Epoch seconds; `null` while running. */
  readonly finished: number | null;
  readonly status: RunStatus;
  readonly ename: string | null;
}

/** A run started or ended, told to everyone in the notebook. */
export interface IRunEvent extends IRun {
  readonly type: 'run';
}

/** The latest run of each cell, on joining. */
export interface IRunsEvent {
  readonly type: 'runs';
  readonly runs: IRun[];
}

/** Where two people changed one cell within seconds, in the last 10 minutes. */
export interface IConcurrentCell {
  readonly count: number;
  /** Epoch seconds of the latest. */
  readonly last: number;
}

/** A document's own activity numbers (nobody named), every few seconds. */
export interface IActivityEvent {
  readonly type: 'activity';
  readonly people_active: number;
  readonly edits_per_min: number;
  readonly concurrent: {
    readonly count: number;
    readonly per_min: number;
    readonly cells: Readonly<Record<string, IConcurrentCell>>;
  };
}

/** Someone presents the document (`by`), or nobody does any more (`by: null`). */
export interface IPresentingEvent {
  readonly type: 'presenting';
  readonly by: IStampedUser | null;
  /** The presenter's awareness client id, to follow their view. */
  readonly client_id: number | null;
  /** Followers may not leave. */
  readonly hold: boolean;
}

/**
 * A version of the document was made (docs/PROTOCOL.md, "History"): automatically, named
 * or by a restore. `version` is the version as the REST list gives it; the History panel
 * narrows it (src/history/model.ts) and here it is only checked to be an object.
 */
export interface IVersionEvent {
  readonly type: 'version';
  readonly version: { readonly [key: string]: unknown };
}

/**
 * The events the server sends.
 */
export type ServerEvent =
  | ISavedEvent
  | IReloadEvent
  | IErrorEvent
  | IRenamedEvent
  | IRoleEvent
  | ILocksEvent
  | ICommentsEvent
  | ICommentEvent
  | IRunEvent
  | IRunsEvent
  | IActivityEvent
  | IPresentingEvent
  | IVersionEvent;

/**
 * The events a client sends.
 */
export interface ISaveRequest {
  readonly type: 'save';
  readonly id?: JSONValue;
}

/**
 * An owner locks or unlocks a notebook cell; answered by a `locks` event to everyone
 * (or an `error` event to the sender).
 */
export interface ILockRequest {
  readonly type: 'lock';
  readonly cell: string;
  readonly locked: boolean;
}

/**
 * This person set a new display name; the server shows it in every room they are in
 * (guests get an `error` event).
 */
export interface INameRequest {
  readonly type: 'name';
  /** 1 to 60 characters. */
  readonly display_name: string;
}

/** The comment requests (docs/PROTOCOL.md, "Comments"). */
export type CommentRequestType =
  | 'comment.create'
  | 'comment.reply'
  | 'comment.edit'
  | 'comment.delete'
  | 'comment.resolve'
  | 'comment.reopen'
  | 'comment.reattach'
  | 'comment.accept'
  | 'comment.reject'
  | 'comment.undo'
  | 'comment.get';

/**
 * A comment request; answered by a `comment` event with the same `id` (or an `error`
 * event with it). The server takes the author from the connection, never from here.
 */
export interface ICommentRequest {
  readonly type: CommentRequestType;
  readonly id: string;
  readonly thread?: string;
  readonly message?: string;
  readonly anchor?: CommentAnchor;
  readonly body?: string;
  readonly mentions?: string[];
  readonly private?: boolean;
  readonly suggestion?: string;
}

/** This person's JupyterLab started running a cell, or the run ended. */
export interface IRunRequest {
  readonly type: 'run';
  readonly cell: string;
  readonly phase: 'start' | 'end';
  readonly status?: 'ok' | 'error';
  readonly ename?: string | null;
}

/** An owner presents the document to everyone in it (or stops). */
export interface IPresentRequest {
  readonly type: 'present';
  readonly on: boolean;
  readonly hold?: boolean;
}

/** The events a client sends. */
export type ClientEvent =
  | ISaveRequest
  | ILockRequest
  | INameRequest
  | ICommentRequest
  | IRunRequest
  | IPresentRequest;

/**
 * Frame a client event: `varUint(4) varString(JSON)`.
 */
export function encodeEvent(event: ClientEvent): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, MessageKind.EVENT);
  encoding.writeVarString(encoder, JSON.stringify(event));
  return encoding.toUint8Array(encoder);
}

/**
 * Read the event that follows the kind prefix of a message.
 *
 * Returns:
 *   The event, or `null` for a well-formed event of a type this client does not know
 *   (servers may add event types; old clients ignore them).
 *
 * Raises:
 *   TypeError: the payload is not a JSON object with a string `type`, or a known event
 *     lacks a field. SyntaxError: the payload is not JSON.
 */
export function readEvent(decoder: decoding.Decoder): ServerEvent | null {
  return parseEvent(decoding.readVarString(decoder));
}

/**
 * Decode a whole kind-4 message (the kind prefix included).
 *
 * Raises:
 *   TypeError: the message is not of kind 4, or as for `readEvent`.
 */
export function decodeEventMessage(message: Uint8Array): ServerEvent | null {
  const decoder = decoding.createDecoder(message);
  const kind = decoding.readVarUint(decoder);
  if (kind !== MessageKind.EVENT) {
    throw new TypeError(`Not an event message: kind ${kind}`);
  }
  return readEvent(decoder);
}

/**
 * Narrow the JSON text of an event to a `ServerEvent`.
 *
 * Raises: as `readEvent`.
 */
export function parseEvent(text: string): ServerEvent | null {
  const value: unknown = JSON.parse(text);
  if (!isRecord(value) || typeof value.type !== 'string') {
    throw new TypeError(`Not an event: ${text.slice(0, 200)}`);
  }
  switch (value.type) {
    case 'saved':
      if (typeof value.path === 'string' && typeof value.fingerprint === 'string') {
        return {
          type: 'saved',
          id: (value.id ?? null) as JSONValue,
          path: value.path,
          fingerprint: value.fingerprint
        };
      }
      break;
    case 'reload':
      if (
        (value.epoch === null || typeof value.epoch === 'string') &&
        (value.reason === undefined || typeof value.reason === 'string')
      ) {
        const event: IReloadEvent = {
          type: 'reload',
          epoch: value.epoch,
          reason: value.reason ?? ''
        };
        return typeof value.doc_id === 'string'
          ? { ...event, doc_id: value.doc_id }
          : event;
      }
      break;
    case 'locks':
      if (Array.isArray(value.cells) && value.cells.every(c => typeof c === 'string')) {
        return { type: 'locks', cells: value.cells as string[] };
      }
      break;
    case 'role':
      if ((ROLES as readonly unknown[]).includes(value.role)) {
        return { type: 'role', role: value.role as Role };
      }
      break;
    case 'renamed':
      if (typeof value.path === 'string' && value.path.length > 0) {
        return { type: 'renamed', path: value.path };
      }
      break;
    case 'comments':
      if (Array.isArray(value.threads) && value.threads.every(isThread)) {
        return { type: 'comments', threads: value.threads.map(withDefaults) };
      }
      break;
    case 'comment':
      if (isThread(value.thread)) {
        return {
          type: 'comment',
          id: (value.id ?? null) as JSONValue,
          thread: withDefaults(value.thread)
        };
      }
      break;
    case 'run': {
      const run = readRun(value);
      if (run !== null) {
        return { type: 'run', ...run };
      }
      break;
    }
    case 'runs':
      if (Array.isArray(value.runs)) {
        const runs = value.runs.map(readRun);
        if (runs.every(run => run !== null)) {
          return { type: 'runs', runs: runs as IRun[] };
        }
      }
      break;
    case 'activity': {
      const concurrent = value.concurrent;
      if (
        isCount(value.people_active) &&
        isCount(value.edits_per_min) &&
        isRecord(concurrent) &&
        isCount(concurrent.count) &&
        isCount(concurrent.per_min) &&
        isRecord(concurrent.cells) &&
        Object.values(concurrent.cells).every(
          c => isRecord(c) && isCount(c.count) && isCount(c.last)
        )
      ) {
        return {
          type: 'activity',
          people_active: value.people_active,
          edits_per_min: value.edits_per_min,
          concurrent: {
            count: concurrent.count,
            per_min: concurrent.per_min,
            cells: concurrent.cells as Record<string, IConcurrentCell>
          }
        };
      }
      break;
    }
    case 'presenting':
      if (value.by === null) {
        return { type: 'presenting', by: null, client_id: null, hold: false };
      }
      if (isStampedUser(value.by)) {
        return {
          type: 'presenting',
          by: value.by,
          client_id: Number.isInteger(value.client_id) ? (value.client_id as number) : null,
          hold: value.hold === true
        };
      }
      break;
    case 'version':
      if (isRecord(value.version)) {
        return { type: 'version', version: value.version };
      }
      break;
    case 'error':
      if (typeof value.reason === 'string') {
        return {
          type: 'error',
          id: (value.id ?? null) as JSONValue,
          reason: value.reason
        };
      }
      break;
    default:
      return null;
  }
  throw new TypeError(`Malformed '${value.type}' event: ${text.slice(0, 200)}`);
}

/** A finite number, not below zero. */
function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0;
}

/** Whether a value names a person the way the server stamps one. */
export function isStampedUser(value: unknown): value is IStampedUser {
  return isRecord(value) && typeof value.username === 'string' && value.username.length > 0;
}

const RUN_STATUSES: readonly unknown[] = ['running', 'ok', 'error', 'unknown'];

/** One run as the server sends it, or `null` when malformed. */
function readRun(value: unknown): IRun | null {
  if (
    !isRecord(value) ||
    typeof value.cell !== 'string' ||
    !isStampedUser(value.by) ||
    !isCount(value.started) ||
    !(value.finished === null || isCount(value.finished)) ||
    !RUN_STATUSES.includes(value.status)
  ) {
    return null;
  }
  return {
    cell: value.cell,
    by: value.by,
    started: value.started,
    finished: value.finished as number | null,
    status: value.status as RunStatus,
    ename: typeof value.ename === 'string' ? value.ename : null
  };
}

/**
 * Whether a value has the shape of a thread: what the UI reads of it is there with the
 * right types (the text itself is rendered through the sanitizer, never trusted).
 */
export function isThread(value: unknown): value is ICommentThread {
  if (!isRecord(value) || !isRecord(value.anchor) || !Array.isArray(value.messages)) {
    return false;
  }
  const anchor = value.anchor;
  const anchored =
    (anchor.kind === 'cell' && typeof anchor.cell_id === 'string') ||
    (anchor.kind === 'range' &&
      typeof anchor.start === 'string' &&
      typeof anchor.end === 'string');
  return (
    anchored &&
    typeof value.id === 'string' &&
    typeof value.author === 'string' &&
    typeof value.created_at === 'number' &&
    isOptional(value.private, 'boolean') &&
    (value.status === 'open' || value.status === 'resolved') &&
    isOptional(value.detached, 'boolean') &&
    (isOptional(value.suggestion, 'string') || value.suggestion === null) &&
    (value.message_count === undefined || typeof value.message_count === 'number') &&
    isNames(value.participants) &&
    isNames(value.mentioned) &&
    value.messages.every(isMessage)
  );
}

/** Absent, or a list of usernames. */
function isNames(value: unknown): boolean {
  return value === undefined || (Array.isArray(value) && value.every(v => typeof v === 'string'));
}

function isMessage(value: unknown): value is ICommentMessage {
  return (
    isRecord(value) &&
    typeof value.id === 'string' &&
    typeof value.author === 'string' &&
    typeof value.body === 'string' &&
    isNames(value.mentions) &&
    typeof value.created_at === 'number' &&
    (value.edited_at === null || isOptional(value.edited_at, 'number')) &&
    isOptional(value.deleted, 'boolean')
  );
}

/** Absent, or of that type. */
function isOptional(value: unknown, type: 'boolean' | 'number' | 'string'): boolean {
  return value === undefined || typeof value === type;
}

/**
 * A thread with every field the UI reads (the optional ones stay optional): the
 * `comments` snapshot leaves out what is null, false or empty, a third fewer bytes to
 * parse on opening (docs/PROTOCOL.md, Comments).
 */
function withDefaults(thread: ICommentThread): ICommentThread {
  return {
    ...thread,
    private: thread.private ?? false,
    resolved_by: thread.resolved_by ?? null,
    resolved_at: thread.resolved_at ?? null,
    detached: thread.detached ?? false,
    suggestion: thread.suggestion ?? null,
    suggestion_state: thread.suggestion_state ?? null,
    messages: thread.messages.map(m => ({
      ...m,
      mentions: m.mentions ?? [],
      edited_at: m.edited_at ?? null,
      deleted: m.deleted ?? false,
      deleted_by: m.deleted_by ?? null
    }))
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
