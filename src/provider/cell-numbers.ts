/**
 * Where each cell of a live notebook is, by number (1 for the first), remembered after
 * the cell is gone: a refused change may have deleted it locally, and the message
 * about it still names the cell as people saw it ("cell 3"), never by its id.
 */
import * as Y from 'yjs';

/**
 * The number of each cell of a notebook's shared `cells` array, kept current as cells
 * are inserted, deleted or moved (not on every keystroke: only the array is watched).
 */
export class CellNumbers {
  constructor(cells: Y.Array<unknown>) {
    this._cells = cells;
    this._cells.observe(this._read);
    this._read();
  }

  /**
   * The number of the cell with this id (1-based): where it is, or where it was last
   * seen when it is gone; `null` for a cell never seen.
   */
  numberOf(cellId: string): number | null {
    return this._numbers.get(cellId) ?? null;
  }

  /** Stop watching the notebook. */
  dispose(): void {
    this._cells.unobserve(this._read);
  }

  private _read = (): void => {
    this._cells.forEach((cell, index) => {
      const id = cell instanceof Y.Map ? cell.get('id') : undefined;
      if (typeof id === 'string') {
        this._numbers.set(id, index + 1);
      }
    });
  };

  private readonly _cells: Y.Array<unknown>;
  private readonly _numbers = new Map<string, number>();
}
