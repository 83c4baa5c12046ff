/**
 * A badge on each notebook cell with open comment threads: their count; a click opens
 * the first of them in the Comments panel. Works on the notebook's structural surface
 * (cell widgets with a model id and a DOM node), as the presence markers do.
 */
import { IDisposable } from '@lumino/disposable';
import { ISignal } from '@lumino/signaling';

import { CommentsModel } from './model';
import { commentIcon } from './panel';

/** The class of the badge element added to a cell's node. */
export const BADGE_CLASS = 'jp-collab-cell-comments';

export interface IBadgedCell {
  readonly model: { readonly id: string };
  readonly node: HTMLElement;
}

export interface IBadgedNotebook {
  readonly widgets: ReadonlyArray<IBadgedCell>;
  /** Emits when cells are added, removed or moved. */
  readonly cellsChanged: ISignal<any, any>;
}

export class CellCommentBadges implements IDisposable {
  constructor(
    notebook: IBadgedNotebook,
    model: CommentsModel,
    open: (threadId: string) => void
  ) {
    this._notebook = notebook;
    this._model = model;
    this._open = open;
    notebook.cellsChanged.connect(this._schedule, this);
    model.changed.connect(this._schedule, this);
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
    this._notebook.cellsChanged.disconnect(this._schedule, this);
    this._model.changed.disconnect(this._schedule, this);
    if (this._frame !== null) {
      cancelAnimationFrame(this._frame);
    }
    for (const cell of this._notebook.widgets) {
      cell.node.querySelector(`:scope > .${BADGE_CLASS}`)?.remove();
    }
  }

  /** Draw the badges now (normally batched to one per animation frame). */
  render(): void {
    this._frame = null;
    if (this._isDisposed) {
      return;
    }
    for (const cell of this._notebook.widgets) {
      const threads = this._model.openOnCell(cell.model.id);
      let badge = cell.node.querySelector<HTMLElement>(`:scope > .${BADGE_CLASS}`);
      if (threads.length === 0) {
        badge?.remove();
        continue;
      }
      if (!badge) {
        badge = document.createElement('button');
        badge.className = BADGE_CLASS;
        cell.node.appendChild(badge);
      }
      const unread = threads.some(t => this._model.isUnread(t));
      const first = threads[0].id;
      badge.onclick = event => {
        event.stopPropagation();
        this._open(first);
      };
      const key = `${threads.length}|${unread}`;
      if (badge.dataset.key === key) {
        continue; // unchanged: leave the node alone (no churn under the pointer)
      }
      badge.dataset.key = key;
      badge.classList.toggle('jp-mod-unread', unread);
      badge.replaceChildren(
        commentIcon.element({ tag: 'span', className: 'jp-collab-cell-comments-icon' }),
        String(threads.length)
      );
      badge.title = `${threads.length} open comment thread${threads.length === 1 ? '' : 's'}${
        unread ? ' (new messages)' : ''
      }`;
      badge.dataset.count = String(threads.length);
    }
  }

  private _schedule(): void {
    if (this._frame === null && !this._isDisposed) {
      this._frame = requestAnimationFrame(() => this.render());
    }
  }

  private readonly _notebook: IBadgedNotebook;
  private readonly _model: CommentsModel;
  private readonly _open: (threadId: string) => void;
  private _frame: number | null = null;
  private _isDisposed = false;
}
