/**
 * Per-cell presence in a notebook: publish which cell we are in (`cell` in awareness,
 * in edit and command mode alike) and show, on each cell, the initials of the others in
 * it. Works on the notebook's structural surface only (cell widgets with a model id and
 * a DOM node), so jest can drive it with plain objects.
 */
import { IDisposable } from '@lumino/disposable';
import { ISignal } from '@lumino/signaling';
import { Awareness } from 'y-protocols/awareness';

import { avatarNode } from './panel';
import { cellVisitors, ICellVisitor } from './model';

/** The class of the marker element added to a cell's node. */
export const MARKER_CLASS = 'jp-collab-cell-presence';

/** What the markers need of a cell widget. */
export interface ICellLike {
  readonly model: { readonly id: string };
  readonly node: HTMLElement;
}

/** What the markers need of a notebook widget (`Notebook` has it all). */
export interface INotebookLike {
  readonly widgets: ReadonlyArray<ICellLike>;
  readonly activeCell: ICellLike | null;
  readonly activeCellChanged: ISignal<any, any>;
  /** Emits when cells are added, removed or moved (`notebook.model.cells.changed`). */
  readonly cellsChanged: ISignal<any, any>;
}

/**
 * Publishes our cell and keeps every cell's marker current until disposed.
 */
export class CellPresenceMarkers implements IDisposable {
  constructor(notebook: INotebookLike, awareness: Awareness) {
    this._notebook = notebook;
    this._awareness = awareness;
    notebook.activeCellChanged.connect(this._publish, this);
    notebook.cellsChanged.connect(this._scheduleRender, this);
    awareness.on('change', this._onAwareness);
    this._publish();
    this.render();
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this._notebook.activeCellChanged.disconnect(this._publish, this);
    this._notebook.cellsChanged.disconnect(this._scheduleRender, this);
    this._awareness.off('change', this._onAwareness);
    if (this._frame !== null) {
      cancelAnimationFrame(this._frame);
    }
    for (const cell of this._notebook.widgets) {
      cell.node.querySelector(`:scope > .${MARKER_CLASS}`)?.remove();
    }
    if (this._awareness.getLocalState() !== null) {
      this._awareness.setLocalStateField('cell', null);
    }
  }

  /** Draw the markers now (normally batched to one per animation frame). */
  render(): void {
    this._frame = null;
    if (this._isDisposed) {
      return;
    }
    const visitors = cellVisitors(
      this._awareness.getStates(),
      this._awareness.clientID
    );
    for (const cell of this._notebook.widgets) {
      renderMarker(cell, visitors.get(cell.model.id) ?? []);
    }
  }

  private _publish(): void {
    if (this._awareness.getLocalState() === null) {
      return; // disconnected for good (the awareness was destroyed)
    }
    const id = this._notebook.activeCell?.model.id ?? null;
    if (this._awareness.getLocalState()?.cell !== id) {
      this._awareness.setLocalStateField('cell', id);
    }
  }

  private _onAwareness = (): void => {
    this._scheduleRender();
  };

  private _scheduleRender(): void {
    if (this._frame === null && !this._isDisposed) {
      this._frame = requestAnimationFrame(() => this.render());
    }
  }

  private readonly _notebook: INotebookLike;
  private readonly _awareness: Awareness;
  private _frame: number | null = null;
  private _isDisposed = false;
}

/**
 * Put (or update, or remove) one cell's marker: initials of its visitors, in their
 * colours, with their names in the tooltip.
 */
export function renderMarker(cell: ICellLike, visitors: ICellVisitor[]): void {
  let marker = cell.node.querySelector<HTMLElement>(`:scope > .${MARKER_CLASS}`);
  if (visitors.length === 0) {
    marker?.remove();
    return;
  }
  const key = visitors
    .map(v => `${v.username}:${v.color}:${v.initials}:${v.label}`)
    .join('|');
  if (marker?.dataset.key === key) {
    return;
  }
  if (!marker) {
    marker = document.createElement('div');
    marker.className = MARKER_CLASS;
    cell.node.appendChild(marker);
  }
  marker.dataset.key = key;
  marker.dataset.users = visitors.map(v => v.username).join(' ');
  const names = visitors.map(v => v.label).join(', ');
  marker.title = `${names} ${visitors.length === 1 ? 'is' : 'are'} in this cell`;
  marker.replaceChildren(
    ...visitors.map(v =>
      avatarNode({ label: v.label, initials: v.initials, color: v.color, avatarUrl: null })
    )
  );
}
