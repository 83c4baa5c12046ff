/**
 * The History panel's pure side (docs/PROTOCOL.md, "History"): the server's answers
 * narrowed from untrusted JSON, the words a version row shows ("+1 cell · 3 changed",
 * "5 min ago", "History: 1.2 MB"), the filter by person, and nbdime's diff of two
 * notebooks read into a list of cell changes with their line changes. No DOM here.
 */
import { DocumentType } from '../api';
import { ago } from '../execution/runs';

/** How a version came to be: quiet after changes, named by someone, or a restore. */
export type VersionKind = 'auto' | 'named' | 'restore';

/** One version of a document, as the server lists it. */
export interface IVersion {
  readonly id: number;
  /** Where in the document's update log it stands (opaque to the panel). */
  readonly seq: number;
  /** Epoch seconds. */
  readonly created_at: number;
  readonly kind: VersionKind;
  /** A named version's name; a restore's "restored version 3"; else `null`. */
  readonly name: string | null;
  /** Who named or restored it; `null` for automatic versions. */
  readonly by: string | null;
  /** Who changed the document since the version before (usernames). */
  readonly authors: readonly string[];
  /**
   * What changed since the version before: `added`, `removed`, `changed`, `moved` cells
   * for notebooks, `lines_added` and `lines_removed` for text files.
   */
  readonly summary: Readonly<Record<string, number>>;
}

/** The versions of one document and what its history takes in the store. */
export interface IHistory {
  readonly path: string;
  readonly type: DocumentType;
  /** Oldest first, as the server sends them. */
  readonly versions: readonly IVersion[];
  readonly size: { readonly bytes: number; readonly rows: number; readonly snapshots: number };
}

/** A notebook cell as a preview or a comparison shows it. */
export interface ICell {
  /** `null` for cells of notebooks older than nbformat 4.5. */
  readonly id: string | null;
  readonly cell_type: string;
  readonly source: string;
  readonly execution_count: number | null;
  /** The text of its outputs (stream text, `text/plain`, errors), one entry each. */
  readonly outputs: readonly string[];
}

/** What a document was at one version. */
export type IPreview = {
  readonly path: string;
  readonly version: IVersion;
} & (
  | { readonly type: 'notebook'; readonly cells: readonly ICell[] }
  | { readonly type: 'file'; readonly text: string }
);

/** One line of a text difference. */
export interface IDiffLine {
  /** `hunk` and `header` come from unified diffs only (`@@ ... @@`, `---`, `+++`). */
  readonly kind: 'same' | 'added' | 'removed' | 'hunk' | 'header';
  /** The line without its line break. */
  readonly text: string;
}

/** What happened to one cell between two versions, in the newer notebook's order. */
export type ICellChange =
  | { readonly kind: 'same' | 'added' | 'removed'; readonly cell: ICell }
  | {
      readonly kind: 'changed';
      readonly before: ICell;
      readonly after: ICell;
      /** The source, line by line; empty when the source did not change. */
      readonly lines: readonly IDiffLine[];
      readonly outputsChanged: boolean;
      readonly metadataChanged: boolean;
    };

/** The difference between a version and a later one (or the document now). */
export type IComparison = {
  readonly path: string;
  readonly from: IVersion;
  /** `null`: the document as it is now. */
  readonly to: IVersion | null;
} & (
  | {
      readonly type: 'notebook';
      readonly cells: readonly ICellChange[];
      /** The notebook's own metadata (kernel, language...) changed. */
      readonly metadataChanged: boolean;
    }
  | { readonly type: 'file'; readonly lines: readonly IDiffLine[] }
);

// -- words --------------------------------------------------------------------------

/**
 * A version's summary in words: `+1 cell · 3 changed · 1 moved` for a notebook,
 * `+4 −2 lines` for a text file, `no changes` when nothing changed.
 */
export function summaryText(summary: Readonly<Record<string, number>>, type: DocumentType): string {
  const count = (key: string): number => summary[key] ?? 0;
  if (type === 'file') {
    const added = count('lines_added');
    const removed = count('lines_removed');
    return added === 0 && removed === 0 ? 'no changes' : `+${added} −${removed} lines`;
  }
  const cells = (n: number): string => `${n} cell${n === 1 ? '' : 's'}`;
  const parts: string[] = [];
  if (count('added') > 0) {
    parts.push(`+${cells(count('added'))}`);
  }
  if (count('removed') > 0) {
    parts.push(`−${cells(count('removed'))}`);
  }
  if (count('changed') > 0) {
    parts.push(`${count('changed')} changed`);
  }
  if (count('moved') > 0) {
    parts.push(`${count('moved')} moved`);
  }
  return parts.length === 0 ? 'no changes' : parts.join(' · ');
}

/** A version's kind in words: `auto`, a named version's name, a restore's name. */
export function kindText(version: IVersion): string {
  if (version.kind === 'auto') {
    return 'auto';
  }
  return version.name ?? version.kind;
}

/** When a version was made, `now` in epoch seconds: `5 min ago`. */
export function whenText(version: IVersion, now: number): string {
  return ago(now - version.created_at);
}

/** A history's size for people: `812 B`, `4.0 KB`, `1.2 MB`, `3.5 GB` (1 KB = 1024 B). */
export function sizeText(bytes: number): string {
  const units = ['KB', 'MB', 'GB', 'TB'];
  if (bytes < 1024) {
    return `${bytes} B`;
  }
  let value = bytes;
  let unit = -1;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

/** Everyone who changed the document in any of `versions`, sorted. */
export function authorsOf(versions: readonly IVersion[]): string[] {
  const people = new Set<string>();
  versions.forEach(v => v.authors.forEach(a => people.add(a)));
  return [...people].sort((a, b) => a.localeCompare(b));
}

/**
 * The versions the panel lists, newest first: those `person` changed the document in,
 * or all of them when `person` is `null`.
 */
export function listedVersions(
  versions: readonly IVersion[],
  person: string | null
): IVersion[] {
  return versions
    .filter(v => person === null || v.authors.includes(person))
    .sort((a, b) => b.created_at - a.created_at || b.id - a.id);
}

// -- narrowing the server's answers -------------------------------------------------

/**
 * Narrow the answer to `GET api/collab/history/{path}`.
 *
 * Raises:
 *   TypeError: a field is missing or has the wrong type.
 */
export function toHistory(body: unknown): IHistory {
  const size = isRecord(body) ? body.size : null;
  if (
    !isRecord(body) ||
    typeof body.path !== 'string' ||
    !isDocumentType(body.type) ||
    !Array.isArray(body.versions) ||
    !isRecord(size) ||
    !isCount(size.bytes) ||
    !isCount(size.rows) ||
    !isCount(size.snapshots)
  ) {
    throw malformed('history', body);
  }
  return {
    path: body.path,
    type: body.type,
    versions: body.versions.map(toVersion),
    size: { bytes: size.bytes, rows: size.rows, snapshots: size.snapshots }
  };
}

/**
 * Narrow one version (from the history list, a preview, a comparison, a `version` event
 * or the answer to a name or restore request).
 *
 * Raises:
 *   TypeError: a field is missing or has the wrong type.
 */
export function toVersion(body: unknown): IVersion {
  const optionalText = (value: unknown): value is string | null | undefined =>
    value === undefined || value === null || typeof value === 'string';
  if (
    !isRecord(body) ||
    !Number.isInteger(body.id) ||
    !isCount(body.seq) ||
    !isCount(body.created_at) ||
    (body.kind !== 'auto' && body.kind !== 'named' && body.kind !== 'restore') ||
    !optionalText(body.name) ||
    !optionalText(body.by) ||
    !Array.isArray(body.authors) ||
    !body.authors.every(a => typeof a === 'string') ||
    !(body.summary === null || body.summary === undefined || isRecord(body.summary)) ||
    !Object.values(body.summary ?? {}).every(isCount)
  ) {
    throw malformed('version', body);
  }
  return {
    id: body.id as number,
    seq: body.seq,
    created_at: body.created_at,
    kind: body.kind,
    name: body.name ?? null,
    by: body.by ?? null,
    authors: body.authors as string[],
    summary: (body.summary ?? {}) as Record<string, number>
  };
}

/**
 * Narrow the answer to `GET ...?version=N`: a notebook's cells or a file's text.
 *
 * Raises:
 *   TypeError: a field is missing or has the wrong type.
 */
export function toPreview(body: unknown): IPreview {
  if (!isRecord(body) || typeof body.path !== 'string' || !isDocumentType(body.type)) {
    throw malformed('preview', body);
  }
  const version = toVersion(body.version);
  if (body.type === 'file') {
    if (typeof body.content !== 'string') {
      throw malformed('preview', body);
    }
    return { path: body.path, version, type: 'file', text: body.content };
  }
  return { path: body.path, version, type: 'notebook', cells: readNotebook(body.content) };
}

/**
 * Narrow the answer to `GET ...?from=N&to=M` and read its diff: nbdime's for notebooks
 * (applied to `base`, the older notebook), a unified diff's lines for text files.
 *
 * Raises:
 *   TypeError: a field is missing or has the wrong type, or the diff does not fit `base`.
 */
export function toComparison(body: unknown): IComparison {
  if (!isRecord(body) || typeof body.path !== 'string' || !isDocumentType(body.type)) {
    throw malformed('comparison', body);
  }
  const from = toVersion(body.from);
  const to = body.to === null || body.to === undefined ? null : toVersion(body.to);
  if (body.type === 'file') {
    if (!Array.isArray(body.diff) || !body.diff.every(l => typeof l === 'string')) {
      throw malformed('comparison', body);
    }
    return { path: body.path, from, to, type: 'file', lines: readUnifiedDiff(body.diff) };
  }
  const { cells, metadataChanged } = readNotebookDiff(body.base, body.diff);
  return { path: body.path, from, to, type: 'notebook', cells, metadataChanged };
}

/**
 * Narrow a notebook (nbformat 4 JSON) to its cells.
 *
 * Raises:
 *   TypeError: it has no list of cells, or a cell has no type or source.
 */
export function readNotebook(notebook: unknown): ICell[] {
  if (!isRecord(notebook) || !Array.isArray(notebook.cells)) {
    throw malformed('notebook', notebook);
  }
  return notebook.cells.map(readCell);
}

/** Narrow one nbformat cell. Raises TypeError as `readNotebook`. */
function readCell(cell: unknown): ICell {
  if (
    !isRecord(cell) ||
    typeof cell.cell_type !== 'string' ||
    !isMultiline(cell.source) ||
    !(cell.id === undefined || typeof cell.id === 'string') ||
    !(cell.outputs === undefined || Array.isArray(cell.outputs))
  ) {
    throw malformed('cell', cell);
  }
  const count = cell.execution_count;
  return {
    id: cell.id ?? null,
    cell_type: cell.cell_type,
    source: joined(cell.source),
    execution_count: Number.isInteger(count) ? (count as number) : null,
    outputs: (cell.outputs ?? []).map(outputText)
  };
}

/** The text an output shows when read as text (no images, no HTML). */
function outputText(output: unknown): string {
  if (!isRecord(output)) {
    return '';
  }
  if (output.output_type === 'stream' && isMultiline(output.text)) {
    return joined(output.text);
  }
  if (output.output_type === 'error') {
    return `${String(output.ename ?? '')}: ${String(output.evalue ?? '')}`;
  }
  const data = output.data;
  if (isRecord(data) && isMultiline(data['text/plain'])) {
    return joined(data['text/plain']);
  }
  return isRecord(data) ? `[${Object.keys(data).join(', ')}]` : '';
}

// -- reading diffs ------------------------------------------------------------------

/**
 * The lines of a unified diff (Python's `difflib.unified_diff`, line breaks kept) with
 * what each one is.
 */
export function readUnifiedDiff(lines: readonly string[]): IDiffLine[] {
  return lines.map(line => {
    const text = line.replace(/\r?\n$/, '');
    if (text.startsWith('---') || text.startsWith('+++')) {
      return { kind: 'header', text };
    }
    if (text.startsWith('@@')) {
      return { kind: 'hunk', text };
    }
    if (text.startsWith('+')) {
      return { kind: 'added', text: text.slice(1) };
    }
    if (text.startsWith('-')) {
      return { kind: 'removed', text: text.slice(1) };
    }
    return { kind: 'same', text: text.slice(1) };
  });
}

/**
 * Read nbdime's diff of two notebooks into the changes of each cell.
 *
 * nbdime's diff is a list of entries `{op, key, ...}`: on a dict, `key` is a field and
 * `op` one of `add`, `remove`, `replace` (with `value`) or `patch` (with `diff`, the
 * field's own diff); on a list, `key` is an index into the old list and `op` one of
 * `addrange` (with `valuelist`, inserted before it), `removerange` (with `length`) or
 * `patch`. A string is diffed as a list of its lines, and a patched line as a list of
 * its characters.
 *
 * Raises:
 *   TypeError: `base` is not a notebook, or the diff is not nbdime's or does not fit it.
 */
export function readNotebookDiff(
  base: unknown,
  diff: unknown
): { cells: ICellChange[]; metadataChanged: boolean } {
  const cells = readNotebook(base);
  const rawCells = (base as { cells: unknown[] }).cells;
  let cellsDiff: DiffEntry[] = [];
  let metadataChanged = false;
  for (const entry of readEntries(diff)) {
    if (entry.key === 'cells') {
      if (entry.op !== 'patch') {
        throw malformed('notebook diff', entry);
      }
      cellsDiff = readEntries(entry.diff);
    } else if (entry.key === 'metadata') {
      metadataChanged = true;
    }
  }
  const changes: ICellChange[] = [];
  walkList(cells.length, cellsDiff, {
    same: i => changes.push({ kind: 'same', cell: cells[i] }),
    removed: i => changes.push({ kind: 'removed', cell: cells[i] }),
    added: values => {
      if (!Array.isArray(values)) {
        throw malformed('added cells', values);
      }
      values.forEach(cell => changes.push({ kind: 'added', cell: readCell(cell) }));
    },
    patched: (i, cellDiff) => changes.push(readCellDiff(cells[i], rawCells[i], cellDiff))
  });
  return { cells: changes, metadataChanged };
}

/** One cell's diff: its new source, type and execution count, and what else changed. */
function readCellDiff(before: ICell, raw: unknown, diff: unknown): ICellChange {
  let after = before;
  let lines: IDiffLine[] = [];
  let outputsChanged = false;
  let metadataChanged = false;
  for (const entry of readEntries(diff)) {
    const replaced = entry.op === 'replace' || entry.op === 'add';
    switch (entry.key) {
      case 'source': {
        let source: string;
        if (entry.op === 'patch') {
          const patched = patchText(before.source, entry.diff);
          source = patched.text;
          lines = patched.lines;
        } else if (replaced && isMultiline(entry.value)) {
          source = joined(entry.value);
          lines = [
            ...splitLines(before.source).map(text => ({ kind: 'removed' as const, text })),
            ...splitLines(source).map(text => ({ kind: 'added' as const, text }))
          ].map(line => ({ ...line, text: line.text.replace(/\r?\n$/, '') }));
        } else {
          throw malformed('source diff', entry);
        }
        after = { ...after, source };
        break;
      }
      case 'cell_type':
        if (replaced && typeof entry.value === 'string') {
          after = { ...after, cell_type: entry.value };
        }
        break;
      case 'execution_count': {
        const count = replaced ? entry.value : null;
        after = { ...after, execution_count: Number.isInteger(count) ? (count as number) : null };
        break;
      }
      case 'outputs':
        outputsChanged = true;
        after = { ...after, outputs: outputsAfter(raw, entry) };
        break;
      case 'metadata':
      case 'attachments':
        metadataChanged = true;
        break;
      default:
        break;
    }
  }
  return { kind: 'changed', before, after, lines, outputsChanged, metadataChanged };
}

/** The outputs' text after a diff entry on `outputs`, or `[]` if it cannot be read. */
function outputsAfter(raw: unknown, entry: DiffEntry): string[] {
  if (entry.op === 'remove') {
    return [];
  }
  if ((entry.op === 'replace' || entry.op === 'add') && Array.isArray(entry.value)) {
    return entry.value.map(outputText);
  }
  const outputs = isRecord(raw) && Array.isArray(raw.outputs) ? raw.outputs : [];
  const result: unknown[] = [];
  walkList(outputs.length, readEntries(entry.diff), {
    same: i => result.push(outputs[i]),
    removed: () => undefined,
    added: values => {
      if (Array.isArray(values)) {
        result.push(...values);
      }
    },
    // a changed output is shown as it was: outputs are marked changed anyway
    patched: i => result.push(outputs[i])
  });
  return result.map(outputText);
}

/**
 * Apply nbdime's diff of a multi-line string to it: the new text, and the old and new
 * lines in order (a patched line shows as the old line removed and the new one added).
 */
export function patchText(text: string, diff: unknown): { text: string; lines: IDiffLine[] } {
  const old = splitLines(text);
  const lines: IDiffLine[] = [];
  const result: string[] = [];
  const show = (kind: IDiffLine['kind'], line: string) =>
    lines.push({ kind, text: line.replace(/\r?\n$/, '') });
  walkList(old.length, readEntries(diff), {
    same: i => {
      result.push(old[i]);
      show('same', old[i]);
    },
    removed: i => show('removed', old[i]),
    added: values => {
      const added = typeof values === 'string' ? splitLines(values) : values;
      if (!Array.isArray(added) || !added.every(v => typeof v === 'string')) {
        throw malformed('added lines', values);
      }
      for (const line of added as string[]) {
        result.push(line);
        show('added', line);
      }
    },
    patched: (i, lineDiff) => {
      const line = patchCharacters(old[i], lineDiff);
      result.push(line);
      show('removed', old[i]);
      show('added', line);
    }
  });
  return { text: result.join(''), lines };
}

/** Apply a character diff (`addrange` values are strings) to one line. */
function patchCharacters(line: string, diff: unknown): string {
  const chars = Array.from(line);
  const result: string[] = [];
  walkList(chars.length, readEntries(diff), {
    same: i => result.push(chars[i]),
    removed: () => undefined,
    added: values => {
      if (typeof values === 'string') {
        result.push(values);
      } else if (Array.isArray(values) && values.every(v => typeof v === 'string')) {
        result.push(...(values as string[]));
      } else {
        throw malformed('added characters', values);
      }
    },
    patched: (_, d) => {
      throw malformed('character diff', d);
    }
  });
  return result.join('');
}

/**
 * Split text as Python's `str.splitlines(keepends=True)` does (nbdime's line numbers
 * count lines that way): every line keeps its break, the last may have none.
 */
export function splitLines(text: string): string[] {
  const lines: string[] = [];
  const breaks = /\r\n|[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]/g;
  let start = 0;
  for (let match = breaks.exec(text); match !== null; match = breaks.exec(text)) {
    lines.push(text.slice(start, match.index + match[0].length));
    start = match.index + match[0].length;
  }
  if (start < text.length) {
    lines.push(text.slice(start));
  }
  return lines;
}

/** One entry of an nbdime diff, narrowed enough to walk. */
interface DiffEntry {
  readonly op: string;
  readonly key: string | number;
  readonly diff?: unknown;
  readonly value?: unknown;
  readonly valuelist?: unknown;
  readonly length?: number;
}

const OPS = ['add', 'remove', 'replace', 'patch', 'addrange', 'removerange'];

/** Narrow a list of nbdime diff entries. Raises TypeError. */
function readEntries(diff: unknown): DiffEntry[] {
  if (!Array.isArray(diff)) {
    throw malformed('diff', diff);
  }
  for (const entry of diff) {
    if (
      !isRecord(entry) ||
      !OPS.includes(entry.op as string) ||
      !(typeof entry.key === 'string' || Number.isInteger(entry.key)) ||
      (entry.op === 'patch' && !Array.isArray(entry.diff)) ||
      (entry.op === 'removerange' && !(Number.isInteger(entry.length) && (entry.length as number) > 0))
    ) {
      throw malformed('diff entry', entry);
    }
  }
  return diff as DiffEntry[];
}

/** What to do with each item of a list while walking a diff over it. */
interface IListVisitor {
  /** Old item `i` is kept as it was. */
  same(i: number): void;
  /** Old item `i` is gone. */
  removed(i: number): void;
  /** New items come here (the entry's `valuelist`, not yet narrowed). */
  added(values: unknown): void;
  /** Old item `i` is kept, changed by `diff`. */
  patched(i: number, diff: unknown): void;
}

/**
 * Walk a list diff over an old list of `length` items, in the new list's order, the way
 * nbdime's `patch_list` does. Where items are both removed and added at one place the
 * removed ones come first (nbdime lists the addition first; the result is the same).
 *
 * Raises:
 *   TypeError: an entry's key is not an index of the list, or entries go backwards.
 */
function walkList(length: number, diff: readonly DiffEntry[], visit: IListVisitor): void {
  const entries = [...diff];
  // removals first among the entries at one index (an add then a remove there is the
  // same change as a remove then an add; a patch never shares its index with a remove)
  for (let i = 1; i < entries.length; i++) {
    const [a, b] = [entries[i - 1], entries[i]];
    if (a.key === b.key && a.op === 'addrange' && b.op === 'removerange') {
      [entries[i - 1], entries[i]] = [b, a];
    }
  }
  let take = 0;
  let last = 0;
  for (const entry of entries) {
    const index = entry.key;
    if (typeof index !== 'number' || index < last || index > length) {
      throw malformed('list diff entry', entry);
    }
    last = index;
    for (let i = take; i < index; i++) {
      visit.same(i);
    }
    take = Math.max(take, index);
    let skip = 0;
    switch (entry.op) {
      case 'addrange':
        visit.added(entry.valuelist);
        break;
      case 'add':
        visit.added([entry.value]);
        break;
      case 'removerange':
      case 'remove':
        skip = entry.length ?? 1;
        if (index + skip > length) {
          throw malformed('list diff entry', entry);
        }
        for (let i = Math.max(take, index); i < index + skip; i++) {
          visit.removed(i);
        }
        break;
      case 'replace':
        skip = 1;
        if (index >= length) {
          throw malformed('list diff entry', entry);
        }
        visit.removed(index);
        visit.added([entry.value]);
        break;
      case 'patch':
        skip = 1;
        if (index >= length) {
          throw malformed('list diff entry', entry);
        }
        visit.patched(index, entry.diff);
        break;
    }
    take = Math.max(take, index + skip);
  }
  for (let i = take; i < length; i++) {
    visit.same(i);
  }
}

// -- small narrowing helpers --------------------------------------------------------

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0;
}

function isDocumentType(value: unknown): value is DocumentType {
  return value === 'notebook' || value === 'file';
}

/** nbformat's multi-line strings: a string, or a list of lines to join. */
function isMultiline(value: unknown): value is string | string[] {
  return (
    typeof value === 'string' ||
    (Array.isArray(value) && value.every(line => typeof line === 'string'))
  );
}

function joined(value: string | string[]): string {
  return typeof value === 'string' ? value : value.join('');
}

function malformed(what: string, value: unknown): TypeError {
  let shown: string;
  try {
    shown = JSON.stringify(value) ?? String(value);
  } catch {
    shown = String(value);
  }
  return new TypeError(`Not a ${what} from the history API: ${shown}`.slice(0, 300));
}
