/**
 * The owners' activity numbers (docs/PROTOCOL.md, "Activity (owners)"): each person's
 * edits, typing speed, runs and state per document, each document's edits and concurrent
 * edits; who looks stuck; the class dashboard's sorting and filtering; sparklines. No
 * DOM, no JupyterLab.
 */
import { isRecord } from '../cursors/model';

/** One person in one document, as the owners' feed says. */
export interface IPersonActivity {
  readonly username: string;
  readonly label: string;
  readonly color: string | null;
  readonly path: string;
  readonly type: 'notebook' | 'file';
  readonly cell: string | null;
  /** 0-based, or `null`. */
  readonly cellIndex: number | null;
  readonly state: 'active' | 'idle' | 'away';
  readonly editsPerMin: number;
  readonly typingCpm: number;
  /** Edits of each 30 s of the last 10 minutes, oldest first. */
  readonly spark: number[];
  readonly cellsEdited: number;
  readonly runsOk: number;
  readonly runsError: number;
  /** The error of their latest run, if it failed. */
  readonly lastError: { readonly name: string | null; readonly cell: string; readonly at: number } | null;
  /** Epoch seconds. */
  readonly lastActive: number;
}

/** One document's numbers. */
export interface IDocumentActivity {
  readonly path: string;
  readonly peopleActive: number;
  readonly editsPerMin: number;
  readonly spark: number[];
  readonly concurrent: number;
  readonly concurrentPerMin: number;
}

/** The owners' numbers: every person's and document's row (what the model keeps). */
export interface IActivityMessage {
  readonly type: 'activity';
  /** Epoch seconds on the server. */
  readonly now: number;
  readonly people: IPersonActivity[];
  readonly documents: IDocumentActivity[];
}

/**
 * One `activity` message of the feed, read: every row (`full`, right after the feed's
 * snapshot) or the rows that changed since the last message, and those gone.
 */
export interface IActivityChange extends IActivityMessage {
  readonly full: boolean;
  /** People rows gone, as `personKey` gives. */
  readonly gonePeople: string[];
  /** Document rows gone, by path. */
  readonly goneDocuments: string[];
}

/** What identifies a person's row: the same person has a row per document. */
export function personKey(username: string, path: string): string {
  return JSON.stringify([username, path]);
}

/**
 * The rows after a change: a full message replaces them all, else changed rows replace
 * theirs and gone ones are dropped.
 */
export function applyActivity(
  before: IActivityMessage | null,
  change: IActivityChange
): IActivityMessage {
  const people = new Map<string, IPersonActivity>();
  const documents = new Map<string, IDocumentActivity>();
  if (before !== null && !change.full) {
    for (const row of before.people) {
      people.set(personKey(row.username, row.path), row);
    }
    for (const row of before.documents) {
      documents.set(row.path, row);
    }
    for (const key of change.gonePeople) {
      people.delete(key);
    }
    for (const path of change.goneDocuments) {
      documents.delete(path);
    }
  }
  for (const row of change.people) {
    people.set(personKey(row.username, row.path), row);
  }
  for (const row of change.documents) {
    documents.set(row.path, row);
  }
  return {
    type: 'activity',
    now: change.now,
    people: [...people.values()],
    documents: [...documents.values()]
  };
}

const STATES: readonly unknown[] = ['active', 'idle', 'away'];

function num(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : 0;
}

function sparkOf(value: unknown): number[] {
  return Array.isArray(value) ? value.slice(0, 60).map(num) : [];
}

/**
 * Read an untrusted `activity` message; rows that do not parse are left out.
 *
 * Raises:
 *   TypeError: not an activity message at all.
 */
export function parseActivity(value: unknown): IActivityChange {
  if (!isRecord(value) || value.type !== 'activity' || !Array.isArray(value.people)) {
    throw new TypeError('Not an activity message');
  }
  const people: IPersonActivity[] = [];
  for (const row of value.people) {
    if (
      !isRecord(row) ||
      typeof row.username !== 'string' ||
      typeof row.path !== 'string' ||
      !STATES.includes(row.state)
    ) {
      continue;
    }
    const user = isRecord(row.user) ? row.user : {};
    const runs = isRecord(row.runs) ? row.runs : {};
    const error = isRecord(row.last_error) ? row.last_error : null;
    people.push({
      username: row.username,
      label:
        (typeof user.display_name === 'string' && user.display_name) ||
        (typeof user.name === 'string' && user.name) ||
        row.username,
      color: typeof user.color === 'string' ? user.color : null,
      path: row.path,
      type: row.type === 'file' ? 'file' : 'notebook',
      cell: typeof row.cell === 'string' ? row.cell : null,
      cellIndex: Number.isInteger(row.cell_index) ? (row.cell_index as number) : null,
      state: row.state as IPersonActivity['state'],
      editsPerMin: num(row.edits_per_min),
      typingCpm: num(row.typing_cpm),
      spark: sparkOf(row.spark),
      cellsEdited: num(row.cells_edited),
      runsOk: num(runs.ok),
      runsError: num(runs.error),
      lastError:
        error && typeof error.cell === 'string'
          ? {
              name: typeof error.name === 'string' ? error.name : null,
              cell: error.cell,
              at: num(error.at)
            }
          : null,
      lastActive: num(row.last_active)
    });
  }
  const documents: IDocumentActivity[] = [];
  for (const row of Array.isArray(value.documents) ? value.documents : []) {
    if (!isRecord(row) || typeof row.path !== 'string') {
      continue;
    }
    const concurrent = isRecord(row.concurrent) ? row.concurrent : {};
    documents.push({
      path: row.path,
      peopleActive: num(row.people_active),
      editsPerMin: num(row.edits_per_min),
      spark: sparkOf(row.spark),
      concurrent: num(concurrent.count),
      concurrentPerMin: num(concurrent.per_min)
    });
  }
  const gone = isRecord(value.gone) ? value.gone : {};
  const gonePeople: string[] = [];
  for (const key of Array.isArray(gone.people) ? gone.people : []) {
    if (
      Array.isArray(key) &&
      key.length === 2 &&
      typeof key[0] === 'string' &&
      typeof key[1] === 'string'
    ) {
      gonePeople.push(personKey(key[0], key[1]));
    }
  }
  const goneDocuments = (Array.isArray(gone.documents) ? gone.documents : []).filter(
    (path): path is string => typeof path === 'string'
  );
  return {
    type: 'activity',
    full: value.full === true,
    now: num(value.now),
    people,
    documents,
    gonePeople,
    goneDocuments
  };
}

/** The folder a path is in, with a trailing slash (`""` at the root). */
export function folderOf(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash < 0 ? '' : path.slice(0, slash + 1);
}

/**
 * Why a person looks stuck, or `null`: their latest run failed (`error: NameError`), or
 * they are idle or away while someone else in the same folder is active (`idle 3 min
 * while others work`). `now` in epoch seconds.
 */
export function stuckReason(
  row: IPersonActivity,
  everyone: ReadonlyArray<IPersonActivity>,
  now: number
): string | null {
  if (row.lastError !== null) {
    return `error: ${row.lastError.name ?? 'failed run'}`;
  }
  if (row.state === 'active') {
    return null;
  }
  const folder = folderOf(row.path);
  const othersWork = everyone.some(
    other =>
      other.username !== row.username &&
      other.state === 'active' &&
      folderOf(other.path) === folder
  );
  if (!othersWork) {
    return null;
  }
  const minutes = Math.max(1, Math.round((now - row.lastActive) / 60));
  return `${row.state} ${minutes} min while others work`;
}

/** The dashboard's columns that sort. */
export type SortKey =
  | 'name'
  | 'document'
  | 'state'
  | 'idle'
  | 'edits'
  | 'typing'
  | 'runs'
  | 'error';

/** What the dashboard shows: under a folder, only the stuck, sorted. */
export interface IBoardView {
  readonly folder: string;
  readonly stuckOnly: boolean;
  readonly sort: SortKey;
  readonly descending: boolean;
}

/** One dashboard row: a person in a document, with why they look stuck. */
export interface IBoardRow {
  readonly activity: IPersonActivity;
  readonly stuck: string | null;
}

const STATE_ORDER = { active: 0, idle: 1, away: 2 };

/**
 * The rows the dashboard shows for `view`: people in documents under `view.folder`
 * (a path prefix; `""` for everyone), only the stuck ones if asked, sorted.
 */
export function boardRows(
  people: ReadonlyArray<IPersonActivity>,
  view: IBoardView,
  now: number
): IBoardRow[] {
  const folder = view.folder.trim().replace(/^\/+/, '');
  const shown = people.filter(p => p.path.startsWith(folder));
  const rows = shown
    .map(activity => ({ activity, stuck: stuckReason(activity, people, now) }))
    .filter(row => !view.stuckOnly || row.stuck !== null);
  const key = (row: IBoardRow): string | number => {
    const a = row.activity;
    switch (view.sort) {
      case 'name':
        return a.label.toLowerCase();
      case 'document':
        return `${a.path}\u0000${String(a.cellIndex ?? -1).padStart(6, '0')}`;
      case 'state':
        return STATE_ORDER[a.state];
      case 'idle':
        return now - a.lastActive;
      case 'edits':
        return a.editsPerMin;
      case 'typing':
        return a.typingCpm;
      case 'runs':
        return a.runsOk + a.runsError;
      case 'error':
        return row.stuck === null ? 1 : 0;
    }
  };
  const sign = view.descending ? -1 : 1;
  return rows.sort((x, y) => {
    const a = key(x);
    const b = key(y);
    const order = a < b ? -1 : a > b ? 1 : 0;
    return (
      sign * order ||
      x.activity.label.localeCompare(y.activity.label) ||
      x.activity.path.localeCompare(y.activity.path)
    );
  });
}

/**
 * An SVG polyline's points for `values` in a `width` × `height` box (0 at the bottom);
 * all-zero values draw a flat line at the bottom.
 */
export function sparkPoints(values: ReadonlyArray<number>, width: number, height: number): string {
  if (values.length === 0) {
    return '';
  }
  const top = Math.max(1, ...values);
  const step = values.length > 1 ? width / (values.length - 1) : 0;
  return values
    .map((v, i) => {
      const x = Math.round(i * step * 10) / 10;
      const y = Math.round((height - (v / top) * (height - 1)) * 10) / 10;
      return `${x},${y}`;
    })
    .join(' ');
}

/** A person's numbers summed over their documents (the Collaborators panel's line). */
export function personSummary(
  people: ReadonlyArray<IPersonActivity>,
  username: string
): { spark: number[]; typingCpm: number; editsPerMin: number } | null {
  const rows = people.filter(p => p.username === username);
  if (rows.length === 0) {
    return null;
  }
  const length = Math.max(...rows.map(r => r.spark.length));
  const spark = Array.from({ length }, (_, i) =>
    rows.reduce((sum, r) => sum + (r.spark[i] ?? 0), 0)
  );
  return {
    spark,
    typingCpm: rows.reduce((sum, r) => sum + r.typingCpm, 0),
    editsPerMin: rows.reduce((sum, r) => sum + r.editsPerMin, 0)
  };
}

/** What merging needs of a presence entry (`IPresenceEntry` has it). */
export interface IPlaceLike {
  readonly user: { readonly username?: string; readonly display_name?: string; readonly name?: string; readonly color?: string };
  readonly path: string;
  readonly type: 'notebook' | 'file';
  readonly cell: string | null;
  readonly cell_index: number | null;
  readonly idle: boolean;
}

/**
 * Everyone on the server for the dashboard: the owners' activity rows, plus a row of
 * zeros for each person and document the presence feed shows without numbers yet
 * (joined, not typed). Presence is fresher about places: a row takes the cell the
 * feed says the person is in now.
 */
export function mergePresence(
  people: ReadonlyArray<IPersonActivity>,
  places: Iterable<IPlaceLike>,
  now: number
): IPersonActivity[] {
  const rows = new Map(people.map(p => [`${p.username}\u0000${p.path}`, p]));
  for (const place of places) {
    const username = place.user.username;
    if (!username) {
      continue;
    }
    const key = `${username}\u0000${place.path}`;
    const row = rows.get(key);
    if (row) {
      if (place.cell !== null && place.cell !== row.cell) {
        rows.set(key, { ...row, cell: place.cell, cellIndex: place.cell_index });
      }
      continue;
    }
    rows.set(key, {
      username,
      label: place.user.display_name || place.user.name || username,
      color: place.user.color ?? null,
      path: place.path,
      type: place.type,
      cell: place.cell,
      cellIndex: place.cell_index,
      state: place.idle ? 'idle' : 'active',
      editsPerMin: 0,
      typingCpm: 0,
      spark: [],
      cellsEdited: 0,
      runsOk: 0,
      runsError: 0,
      lastError: null,
      lastActive: place.idle ? now - 60 : now
    });
  }
  return [...rows.values()];
}
