/**
 * Locked cells in the browser: a lock icon on each, read-only editors for everyone but
 * owners (see `plugins/roles.ts`). The server refuses any change to a locked cell anyway.
 */
import { lockIcon } from '@jupyterlab/ui-components';

/** The class of the lock icon element added to a locked cell's node. */
export const LOCK_CLASS = 'jp-collab-cell-lock';

/** What the lock marker needs of a cell widget. */
export interface ILockableCell {
  readonly model: { readonly id: string };
  readonly node: HTMLElement;
}

/**
 * Show (or remove) the lock icon of every cell.
 *
 * Args:
 *   cells: the notebook's cell widgets.
 *   locked: the ids of the locked cells.
 *   owner: whether the viewer is an owner (the icon then says they may still edit).
 */
export function renderLocks(
  cells: ReadonlyArray<ILockableCell>,
  locked: ReadonlySet<string>,
  owner: boolean
): void {
  for (const cell of cells) {
    const isLocked = locked.has(cell.model.id);
    cell.node.classList.toggle('jp-collab-locked', isLocked);
    let marker = cell.node.querySelector<HTMLElement>(`:scope > .${LOCK_CLASS}`);
    if (!isLocked) {
      marker?.remove();
      continue;
    }
    if (!marker) {
      marker = document.createElement('div');
      marker.className = LOCK_CLASS;
      lockIcon.element({ container: marker, tag: 'span' });
      cell.node.appendChild(marker);
    }
    marker.title = owner
      ? 'Locked: only owners can change this cell'
      : 'Locked by an owner: this cell is read-only (it can still run)';
  }
}
