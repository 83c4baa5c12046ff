/**
 * CodeMirror 6 extension publishing this editor's selection into awareness,
 * in the `cursor` format `remoteCursors` reads. Stock JupyterLab 4.6 does not
 * publish cursors (its `ybinding` only syncs text), so peers see each other
 * only when their editors include this.
 */

import { Extension } from '@codemirror/state';
import { PluginValue, ViewPlugin, ViewUpdate } from '@codemirror/view';
import { Awareness } from 'y-protocols/awareness';
import { Text } from 'yjs';

import { encodeCursorRange, readCursorRange } from './model';

/**
 * Options of `localCursor`.
 */
export interface LocalCursorOptions {
  /** Awareness of the document the editor shows. */
  awareness: Awareness;
  /** The text bound to the editor. */
  ytext: Text;
}

/**
 * Publish the main selection while the editor has focus.
 *
 * Only the focused editor writes: the cells of a notebook share one
 * awareness, and its single `cursor` field belongs to the cell being edited.
 * Remote edits do not republish (the relative positions stay valid), so
 * peers see us as active only when we move.
 */
export function localCursor(options: LocalCursorOptions): Extension {
  const { awareness, ytext } = options;
  return ViewPlugin.define(
    (): PluginValue => ({
      update(update: ViewUpdate): void {
        if (!(update.selectionSet || update.focusChanged)) {
          return;
        }
        if (!update.view.hasFocus || awareness.getLocalState() === null) {
          return;
        }
        const { anchor, head } = update.state.selection.main;
        const next = encodeCursorRange(ytext, anchor, head);
        const current = readCursorRange(awareness.getLocalState());
        if (JSON.stringify(current) !== JSON.stringify(next)) {
          awareness.setLocalStateField('cursor', next);
        }
      }
    })
  );
}
