/**
 * Remote cursors as plain data: awareness states + a Y.Text -> carets and
 * selections in document offsets. Knows nothing of CodeMirror or the DOM, so
 * every rule here is testable with two Y.Docs and an Awareness.
 */

import {
  createAbsolutePositionFromRelativePosition,
  createRelativePositionFromJSON,
  createRelativePositionFromTypeIndex,
  relativePositionToJSON,
  Text
} from 'yjs';

/**
 * Colour used when a state's `user.color` is missing or not a safe CSS colour.
 */
export const FALLBACK_COLOR = 'var(--jp-brand-color1)';

/**
 * Default time (ms) a caret label stays visible after its user last moved or typed:
 * long enough to read a name, short enough not to sit on the code being read.
 */
export const DEFAULT_IDLE_TIMEOUT_MS = 2000;

/**
 * The JSON form of a Yjs relative position, as `relativePositionToJSON` writes
 * it and as it arrives through the awareness protocol.
 */
export interface RelativePositionJSON {
  type?: { client: number; clock: number } | null;
  tname?: string | null;
  item?: { client: number; clock: number } | null;
  assoc?: number | null;
}

/**
 * One selection range of a peer, as published in awareness.
 */
export interface CursorRangeJSON {
  anchor: RelativePositionJSON;
  head: RelativePositionJSON;
}

/**
 * The user identity the server stamps into each awareness state
 * (only the fields we read; all optional on the wire).
 */
export interface AwarenessUser {
  username?: string;
  name?: string;
  display_name?: string;
  initials?: string;
  color?: string;
  avatar_url?: string | null;
}

/**
 * A remote caret (and selection, when `from < to`) resolved against one Y.Text.
 */
export interface RemoteCursor {
  /** Awareness client id of the peer. */
  clientId: number;
  /** Label text: display name, else name, else username. */
  name: string;
  /** A CSS colour, validated (see `isSafeColor`). */
  color: string;
  /** Black or white, whichever reads better on `color`; `null` when unknown. */
  textColor: string | null;
  /** Selection start offset (`min(anchor, head)`). */
  from: number;
  /** Selection end offset (`max(anchor, head)`); equals `from` for a bare caret. */
  to: number;
  /** Offset where the peer started selecting. */
  anchor: number;
  /** Caret offset. */
  head: number;
  /** Whether the peer moved their cursor within the idle timeout. */
  active: boolean;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isId(value: unknown): value is { client: number; clock: number } {
  return (
    isRecord(value) &&
    Number.isInteger(value.client) &&
    Number.isInteger(value.clock) &&
    (value.clock as number) >= 0
  );
}

function isNullish(value: unknown): value is null | undefined {
  return value === null || value === undefined;
}

export function isRelativePositionJSON(
  value: unknown
): value is RelativePositionJSON {
  if (!isRecord(value)) {
    return false;
  }
  const { type, tname, item, assoc } = value;
  const shapeOk =
    (isNullish(type) || isId(type)) &&
    (isNullish(tname) || typeof tname === 'string') &&
    (isNullish(item) || isId(item)) &&
    (isNullish(assoc) || Number.isInteger(assoc));
  // yjs throws when a position names neither an item nor a type
  return shapeOk && !(isNullish(type) && isNullish(tname) && isNullish(item));
}

export function isCursorRangeJSON(value: unknown): value is CursorRangeJSON {
  return (
    isRecord(value) &&
    isRelativePositionJSON(value.anchor) &&
    isRelativePositionJSON(value.head)
  );
}

// Hex, functional notations, named colours and `var(--x)`: enough for every
// colour JupyterLab or our server assigns, and nothing that can end a
// declaration (no `;`, `:` or quotes), since colours end up in style attributes.
const SAFE_COLOR =
  /^(#[0-9a-f]{3,8}|[a-z]{3,30}|var\(--[\w-]+\)|(rgb|rgba|hsl|hsla)\([\d\s.,%/-]+\))$/i;

export function isSafeColor(value: unknown): value is string {
  return typeof value === 'string' && SAFE_COLOR.test(value.trim());
}

/**
 * The text colour for a name label on `color`: black or white, whichever has the higher
 * WCAG contrast ratio (on the server's palette, at least 4.5:1 either way). `null` for
 * anything but `#rgb` / `#rrggbb`: the theme's inverse font colour is used then.
 */
export function labelTextColor(color: string): string | null {
  const hex = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(color.trim())?.[1];
  if (hex === undefined) {
    return null;
  }
  const full = hex.length === 3 ? [...hex].map(c => c + c).join('') : hex;
  const [r, g, b] = [0, 2, 4].map(i => {
    const c = parseInt(full.slice(i, i + 2), 16) / 255;
    return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  const luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b;
  const onBlack = (luminance + 0.05) / 0.05;
  const onWhite = 1.05 / (luminance + 0.05);
  return onBlack > onWhite ? '#000000' : '#ffffff';
}

/**
 * Read the user of an awareness state, or `null` when there is none.
 */
export function readUser(state: unknown): AwarenessUser | null {
  if (!isRecord(state) || !isRecord(state.user)) {
    return null;
  }
  const user = state.user;
  const text = (value: unknown): string | undefined =>
    typeof value === 'string' ? value : undefined;
  return {
    username: text(user.username),
    name: text(user.name),
    display_name: text(user.display_name),
    initials: text(user.initials),
    color: text(user.color),
    avatar_url: text(user.avatar_url) ?? null
  };
}

/**
 * The label for a user: `display_name`, else `name`, else `username`.
 */
export function labelOf(user: AwarenessUser): string {
  for (const candidate of [user.display_name, user.name, user.username]) {
    if (typeof candidate === 'string' && candidate.trim() !== '') {
      return candidate.trim();
    }
  }
  return 'Anonymous';
}

/**
 * Read the published selection range of an awareness state.
 *
 * The primary format is y-codemirror.next's `cursor: {anchor, head}`.
 * jupyter-collaboration's `cursors: [{anchor, head, primary?, empty?}]` is
 * read as a fallback (its primary range, else the first), so peers running
 * the stock collaboration extension show up too.
 */
export function readCursorRange(state: unknown): CursorRangeJSON | null {
  if (!isRecord(state)) {
    return null;
  }
  if (isCursorRangeJSON(state.cursor)) {
    return state.cursor;
  }
  if (Array.isArray(state.cursors)) {
    const ranges = state.cursors.filter(isCursorRangeJSON);
    const primary = ranges.find(r => isRecord(r) && r.primary === true);
    return primary ?? ranges[0] ?? null;
  }
  return null;
}

function resolvePosition(
  ytext: Text,
  position: RelativePositionJSON
): number | null {
  const doc = ytext.doc;
  if (doc === null) {
    return null;
  }
  // `doc.get(tname)` would create a missing root type as a side effect
  if (
    isNullish(position.item) &&
    typeof position.tname === 'string' &&
    !doc.share.has(position.tname)
  ) {
    return null;
  }
  try {
    const absolute = createAbsolutePositionFromRelativePosition(
      createRelativePositionFromJSON(position),
      doc
    );
    if (absolute === null || absolute.type !== ytext) {
      return null;
    }
    return Math.max(0, Math.min(absolute.index, ytext.length));
  } catch {
    // A well-shaped but inconsistent position (e.g. an id that points into a
    // garbage-collected struct) must not break the editor; the peer's caret
    // is simply not drawn until it publishes a position we can resolve.
    return null;
  }
}

/**
 * Resolve a published range against `ytext`, or `null` when it belongs to
 * another text (another cell) or to content this doc has not received yet.
 */
export function resolveRange(
  ytext: Text,
  range: CursorRangeJSON
): { anchor: number; head: number } | null {
  const anchor = resolvePosition(ytext, range.anchor);
  const head = resolvePosition(ytext, range.head);
  return anchor === null || head === null ? null : { anchor, head };
}

/**
 * Encode a local selection of `ytext` in the awareness `cursor` format.
 */
export function encodeCursorRange(
  ytext: Text,
  anchor: number,
  head: number
): CursorRangeJSON {
  const encode = (index: number): RelativePositionJSON =>
    relativePositionToJSON(createRelativePositionFromTypeIndex(ytext, index));
  return { anchor: encode(anchor), head: encode(head) };
}

/**
 * Options of `CursorActivity`.
 */
export interface CursorActivityOptions {
  /** Clock in milliseconds; defaults to `Date.now`. */
  now?: () => number;
  /** How long (ms) a user counts as active after moving their cursor. */
  idleTimeoutMs?: number;
}

/**
 * Remembers when each peer last moved their cursor or typed, so labels can fade out.
 *
 * Activity means "the published range changed" or "their edit arrived" (`touch`), not
 * "an awareness message arrived": awareness renews unchanged states every few seconds.
 * Typing alone may not change the range: a Yjs relative position names the character
 * after the caret, which stays the same while someone types in front of it.
 */
export class CursorActivity {
  constructor(options: CursorActivityOptions = {}) {
    this._now = options.now ?? Date.now;
    this.idleTimeoutMs = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
  }

  /** How long (ms) a user counts as active after moving their cursor. */
  readonly idleTimeoutMs: number;

  /**
   * Record the range `key` published by `clientId`; a new or changed key
   * restarts that client's activity.
   */
  observe(clientId: number, key: string): void {
    const seen = this._seen.get(clientId);
    if (seen === undefined || seen.key !== key) {
      this._seen.set(clientId, { key, at: this._now() });
    }
  }

  /**
   * `clientId` edited the text just now: active again, whatever its range.
   */
  touch(clientId: number): void {
    const seen = this._seen.get(clientId);
    this._seen.set(clientId, { key: seen?.key ?? '', at: this._now() });
  }

  /**
   * Milliseconds until `clientId` turns idle; 0 when idle or unknown.
   */
  remainingMs(clientId: number): number {
    const seen = this._seen.get(clientId);
    if (seen === undefined) {
      return 0;
    }
    return Math.max(0, seen.at + this.idleTimeoutMs - this._now());
  }

  isActive(clientId: number): boolean {
    return this.remainingMs(clientId) > 0;
  }

  /**
   * Forget every client not in `clientIds` (peers that left).
   */
  retain(clientIds: Iterable<number>): void {
    const keep = new Set(clientIds);
    for (const clientId of [...this._seen.keys()]) {
      if (!keep.has(clientId)) {
        this._seen.delete(clientId);
      }
    }
  }

  private readonly _now: () => number;
  private readonly _seen = new Map<number, { key: string; at: number }>();
}

/**
 * Inputs of `collectRemoteCursors`.
 */
export interface CollectOptions {
  /** `awareness.getStates()`: client id -> state (untrusted). */
  states: ReadonlyMap<number, unknown>;
  /** The local client id (`awareness.clientID`), always excluded. */
  localClientId: number;
  /** The text the editor shows; ranges in other texts are skipped. */
  ytext: Text;
  /** Activity tracker; observed here, so call this on every awareness change. */
  activity: CursorActivity;
}

/**
 * List every other client's caret and selection in `ytext`, ordered by
 * client id. States without a `user` or a well-formed cursor are skipped.
 */
export function collectRemoteCursors(options: CollectOptions): RemoteCursor[] {
  const { states, localClientId, ytext, activity } = options;
  const cursors: RemoteCursor[] = [];
  for (const [clientId, state] of states) {
    if (clientId === localClientId) {
      continue;
    }
    const user = readUser(state);
    const range = readCursorRange(state);
    if (user === null || range === null) {
      continue;
    }
    activity.observe(clientId, JSON.stringify(range));
    const resolved = resolveRange(ytext, range);
    if (resolved === null) {
      continue;
    }
    const { anchor, head } = resolved;
    const color = isSafeColor(user.color) ? user.color.trim() : FALLBACK_COLOR;
    cursors.push({
      clientId,
      name: labelOf(user),
      color,
      textColor: labelTextColor(color),
      from: Math.min(anchor, head),
      to: Math.max(anchor, head),
      anchor,
      head,
      active: activity.isActive(clientId)
    });
  }
  activity.retain(states.keys());
  return cursors.sort((a, b) => a.clientId - b.clientId);
}
