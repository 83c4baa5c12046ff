/**
 * "Go to a person": open the document they are in, select their cell, and scroll to
 * their cursor, read from the document's awareness once it is live.
 */
import { Text } from 'yjs';
import { Awareness } from 'y-protocols/awareness';

import { readCursorRange, resolveRange } from '../cursors/model';
import { IPresenceEntry } from './model';

/** What jumping needs of an editor (`CodeEditor.IEditor` has it). */
export interface IEditorLike {
  getPositionAt(offset: number): { line: number; column: number } | undefined;
  revealPosition(position: { line: number; column: number }): void;
}

/** What jumping needs of a notebook cell widget. */
export interface IJumpCell {
  readonly model: { readonly id: string; readonly sharedModel: { readonly ysource?: Text } };
  readonly editor: IEditorLike | null;
}

/** What jumping needs of a notebook widget (`Notebook` has it). */
export interface IJumpNotebook {
  readonly widgets: ReadonlyArray<IJumpCell>;
  activeCellIndex: number;
  scrollToCell(cell: any, align?: 'auto' | 'smart' | 'center' | 'start' | 'end'): Promise<void>;
}

/**
 * The offset of a person's caret in `ytext`, or `null` when their cursor is elsewhere
 * (another cell, not published yet).
 */
export function caretOffset(
  awareness: Awareness,
  clientId: number | null,
  ytext: Text | undefined
): number | null {
  if (clientId === null || ytext === undefined) {
    return null;
  }
  const range = readCursorRange(awareness.getStates().get(clientId));
  return range === null ? null : (resolveRange(ytext, range)?.head ?? null);
}

/**
 * In an open notebook: make the person's cell the active one, scroll it to the middle,
 * and reveal their caret in it.
 *
 * Returns:
 *   Whether their cell was found.
 */
export async function revealInNotebook(
  notebook: IJumpNotebook,
  awareness: Awareness,
  entry: IPresenceEntry
): Promise<boolean> {
  const index = notebook.widgets.findIndex(cell => cell.model.id === entry.cell);
  if (index < 0) {
    return false;
  }
  const cell = notebook.widgets[index];
  notebook.activeCellIndex = index;
  await notebook.scrollToCell(cell, 'center');
  revealCaret(cell.editor, caretOffset(awareness, entry.client_id, cell.model.sharedModel.ysource));
  return true;
}

/**
 * Scroll `editor` so the caret at `offset` is visible; nothing when either is missing.
 */
export function revealCaret(editor: IEditorLike | null, offset: number | null): void {
  if (editor === null || offset === null) {
    return;
  }
  const position = editor.getPositionAt(offset);
  if (position) {
    editor.revealPosition(position);
  }
}
