/**
 * The browser side of `edits.ts` for one notebook widget: its state as an
 * `INotebookView`, and drag and drop of cells refused where the role or a lock forbids
 * moving or adding them (JupyterLab drops cells without any command).
 */
import type { Notebook } from '@jupyterlab/notebook';
import { IDisposable } from '@lumino/disposable';

import { forbiddenDrop, forbiddenMove, INotebookView } from './edits';

/** The mime type JupyterLab drags cells with. */
const CELLS_MIME = 'application/vnd.jupyter.cells';

/** This person's role and the locks on a live notebook (the provider's live document). */
export interface IRoleAndLocks {
  readonly role: string | null;
  readonly locked: ReadonlySet<string>;
}

/** Describe a notebook widget for `forbiddenEdit`. */
export function notebookView(notebook: Notebook, live: IRoleAndLocks): INotebookView {
  const cells = notebook.widgets;
  const selected: number[] = [];
  cells.forEach((cell, index) => {
    if (notebook.isSelectedOrActive(cell)) {
      selected.push(index);
    }
  });
  return {
    role: live.role,
    locked: live.locked,
    cellIds: cells.map(cell => cell.model.id),
    selected,
    active: notebook.activeCellIndex
  };
}

/** What `guardDrops` needs of a Lumino drag event. */
interface ICellDragEvent extends Event {
  readonly mimeData: { hasData(mime: string): boolean; getData(mime: string): unknown };
  readonly source: unknown;
  dropAction: string;
}

/**
 * Refuse cell drops on `notebook` that `view()` forbids: moving a locked cell (for
 * non-owners), any move or copy into it (for readers). The drop target shows no
 * "drop here" marker and nothing changes.
 *
 * Args:
 *   host: an ancestor of the notebook's node (the panel's): its capturing listeners
 *     run before the notebook's own.
 *   view: the notebook's current view, or `null` when it is not live.
 *   refused: told why, once per refused drop.
 */
export function guardDrops(
  host: HTMLElement,
  notebook: Notebook,
  view: () => INotebookView | null,
  refused: (reason: string) => void = () => undefined
): IDisposable {
  const why = (event: ICellDragEvent): string | null => {
    const current = view();
    if (current === null) {
      return null;
    }
    if (event.source !== notebook) {
      return forbiddenDrop(current);
    }
    const moved = event.mimeData.getData('internal:cells');
    const ids = Array.isArray(moved)
      ? moved.map(cell => (cell as { model: { id: string } }).model.id)
      : [];
    return forbiddenMove(ids, current);
  };
  const onDrag = (event: Event): void => {
    const drag = event as ICellDragEvent;
    if (!drag.mimeData?.hasData(CELLS_MIME)) {
      return;
    }
    const reason = why(drag);
    if (reason === null) {
      return;
    }
    // not cancelled: Lumino then treats the target as refusing the drop
    event.stopPropagation();
    drag.dropAction = 'none';
    if (event.type === 'lm-drop') {
      refused(reason);
    }
  };
  const types = ['lm-dragenter', 'lm-dragover', 'lm-drop'];
  types.forEach(type => host.addEventListener(type, onDrag, true));
  let disposed = false;
  return {
    get isDisposed() {
      return disposed;
    },
    dispose() {
      disposed = true;
      types.forEach(type => host.removeEventListener(type, onDrag, true));
    }
  };
}
