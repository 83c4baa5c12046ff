/**
 * Keeping one's place in a notebook while others insert, delete or move cells.
 *
 * @jupyter/ydoc moves a cell by deleting it and inserting a copy, and JupyterLab's
 * notebook follows the active cell by id only within one change event: on the delete it
 * falls back to the first cell, and the insert leaves it there. So someone whose cursor
 * is in a cell that another person moves lands on cell 1. Here the active cell, and the
 * cursor in it, are noted before a remote change to the cell list is shown and put back
 * right after.
 */
import type { CodeEditor } from '@jupyterlab/codeeditor';
import type { Notebook } from '@jupyterlab/notebook';
import { IDisposable } from '@lumino/disposable';
import * as Y from 'yjs';

/** Where this person is: the active cell and, in edit mode, the cursor. */
interface IPlace {
  readonly cellId: string;
  readonly cursor: CodeEditor.IPosition | null;
}

/**
 * Keep `notebook`'s active cell (and cursor) on the same cell across remote changes to
 * the cells of `ydoc` (the notebook's shared document).
 *
 * Returns:
 *   A handle whose `dispose()` stops it.
 */
export function keepPlace(notebook: Notebook, ydoc: Y.Doc): IDisposable {
  const cells = ydoc.getArray('cells');
  let place: IPlace | null = null;
  // the id is read when the cell becomes active: once a remote change deleted it, its
  // model no longer knows its id
  let activeId: string | null = notebook.activeCell?.model.id ?? null;
  const onActiveCell = (_: unknown, cell: { model: { id: string } } | null): void => {
    activeId = cell?.model.id ?? null;
  };
  notebook.activeCellChanged.connect(onActiveCell);
  const before = (transaction: Y.Transaction): void => {
    place = null;
    // local moves: JupyterLab's own actions place the cursor themselves
    if (transaction.local || !transaction.changed.has(cells) || notebook.isDisposed) {
      return;
    }
    const cell = notebook.activeCell;
    if (cell && activeId !== null) {
      const cursor =
        notebook.mode === 'edit' ? (cell.editor?.getCursorPosition() ?? null) : null;
      place = { cellId: activeId, cursor };
    }
  };
  const after = (): void => {
    const noted = place;
    place = null;

    if (noted === null || notebook.isDisposed) {
      return;
    }
    if (notebook.activeCell?.model.id === noted.cellId) {
      return; // still there (cells were added or removed elsewhere)
    }
    const index = notebook.widgets.findIndex(cell => cell.model.id === noted.cellId);
    if (index < 0) {
      return; // the cell was deleted: JupyterLab's choice stands
    }
    notebook.activeCellIndex = index;
    const cell = notebook.activeCell;
    if (cell && noted.cursor) {
      const cursor = noted.cursor;
      void cell.ready.then(() => cell.editor?.setCursorPosition(cursor));
    }
  };
  ydoc.on('beforeObserverCalls', before);
  ydoc.on('afterTransaction', after);
  let disposed = false;
  return {
    get isDisposed() {
      return disposed;
    },
    dispose() {
      disposed = true;
      notebook.activeCellChanged.disconnect(onActiveCell);
      ydoc.off('beforeObserverCalls', before);
      ydoc.off('afterTransaction', after);
    }
  };
}
