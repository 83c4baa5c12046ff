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
 * The events the server sends.
 */
export type ServerEvent =
  | ISavedEvent
  | IReloadEvent
  | IErrorEvent
  | IRenamedEvent
  | IRoleEvent
  | ILocksEvent;

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

/** The events a client sends. */
export type ClientEvent = ISaveRequest | ILockRequest | INameRequest;

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

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
