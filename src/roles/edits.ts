/**
 * Which notebook commands a role or a cell lock forbids, decided before anything is
 * sent: readers (viewers, commenters) may run no command that changes the notebook's
 * cells, and nobody but owners may delete, cut, move, merge, split, replace or change the
 * type of a locked cell. The server refuses these anyway; here menus, toolbars, shortcuts
 * and drag and drop are disabled so that nobody meets the refusal.
 *
 * Pure: the caller describes the notebook as an `INotebookView`.
 */

/** What the decision needs to know of a notebook and of this person. */
export interface INotebookView {
  /** This person's role; `null` until known (nothing is forbidden then). */
  readonly role: string | null;
  /** The ids of the locked cells. */
  readonly locked: ReadonlySet<string>;
  /** The ids of the cells, in order. */
  readonly cellIds: readonly string[];
  /** The indices of the selected cells, or of the active cell when none is selected. */
  readonly selected: readonly number[];
  /** The index of the active cell, or -1. */
  readonly active: number;
}

/** Which cells a command changes in place, replaces, moves or deletes. */
type Targets = (view: INotebookView) => number[];

const selection: Targets = view => [...view.selected];
const active: Targets = view => [view.active];
const withAbove: Targets = view => [view.active - 1, view.active];
const withBelow: Targets = view => [view.active, view.active + 1];
/** Merge Selected Cells merges a lone cell with the one below (JupyterLab's rule). */
const merged: Targets = view =>
  view.selected.length > 1 ? [...view.selected] : withBelow(view);
const none: Targets = () => [];

/**
 * The notebook commands that change cells (JupyterLab 4.6 ids), with the existing cells
 * each one changes. Commands that only add cells (insert, paste above or below) change
 * none: a lock does not forbid them, a reader's role does.
 */
const EDITS: ReadonlyMap<string, Targets> = new Map<string, Targets>([
  ['notebook:delete-cell', selection],
  ['notebook:cut-cell', selection],
  ['notebook:move-cell-up', selection],
  ['notebook:move-cell-down', selection],
  ['notebook:merge-cells', merged],
  ['notebook:merge-cell-above', withAbove],
  ['notebook:merge-cell-below', withBelow],
  ['notebook:split-cell-at-cursor', active],
  ['notebook:paste-and-replace-cell', selection],
  ['notebook:cut-selected-text', active],
  ['notebook:paste-text', active],
  ['notebook:replace-selection', active],
  ['notebook:change-cell-to-code', selection],
  ['notebook:change-cell-to-markdown', selection],
  ['notebook:change-cell-to-raw', selection],
  ...[1, 2, 3, 4, 5, 6].map(
    (level): [string, Targets] => [`notebook:change-cell-to-heading-${level}`, selection]
  ),
  ['notebook:insert-cell-above', none],
  ['notebook:insert-cell-below', none],
  ['notebook:insert-heading-above', none],
  ['notebook:insert-heading-below', none],
  ['notebook:duplicate-below', none],
  ['notebook:paste-cell-above', none],
  ['notebook:paste-cell-below', none],
  ['notebook:undo', none],
  ['notebook:redo', none],
  ['notebook:undo-cell-action', none],
  ['notebook:redo-cell-action', none]
]);

/** The ids of the commands `forbiddenEdit` may forbid (to refresh their state). */
export const GUARDED_COMMANDS: readonly string[] = [...EDITS.keys()];

/** Whether `role` is known and may not change documents. */
export function isReader(role: string | null): boolean {
  return role === 'viewer' || role === 'commenter';
}

/**
 * Why this person may not run `command` on the notebook now, in a few words, or
 * `null` when they may (or the command is not one that edits).
 */
export function forbiddenEdit(command: string, view: INotebookView): string | null {
  const targets = EDITS.get(command);
  if (targets === undefined || view.role === null) {
    return null;
  }
  if (isReader(view.role)) {
    return `${view.role === 'viewer' ? 'Viewers' : 'Commenters'} cannot change this notebook.`;
  }
  if (view.role === 'owner') {
    return null;
  }
  return lockedAmong(targets(view), view);
}

/**
 * Why these cells may not be moved (dragged) now, or `null` when they may.
 *
 * Args:
 *   moved: the ids of the dragged cells.
 */
export function forbiddenMove(moved: readonly string[], view: INotebookView): string | null {
  if (view.role === null || view.role === 'owner') {
    return null;
  }
  if (isReader(view.role)) {
    return forbiddenEdit('notebook:move-cell-down', view);
  }
  const indices = moved.map(id => view.cellIds.indexOf(id));
  return lockedAmong(indices, view);
}

/**
 * Why cells may not be dropped into the notebook (copied from elsewhere), or `null`.
 */
export function forbiddenDrop(view: INotebookView): string | null {
  return isReader(view.role) ? forbiddenEdit('notebook:paste-cell-below', view) : null;
}

/** "Cell 3 is locked by an owner." for the first locked cell among `indices`. */
function lockedAmong(indices: readonly number[], view: INotebookView): string | null {
  for (const index of indices) {
    const id = view.cellIds[index];
    if (id !== undefined && view.locked.has(id)) {
      return `Cell ${index + 1} is locked by an owner.`;
    }
  }
  return null;
}
