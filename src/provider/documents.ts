/**
 * The shared documents our provider serves: `@jupyter/ydoc`'s notebook and file, with
 * `dirty` kept in this browser instead of in the shared document.
 *
 * `@jupyter/ydoc` stores `dirty` in the document's shared `state` map, so every client
 * writes to the room when it changes: the editor typing (true), then each browser after
 * a save (JupyterLab's context, and our provider on the room's `saved` event, set it to
 * false). In our design the room saves the file, and "this browser has changes not on
 * disk yet" is one browser's view. Kept in the room, it made every viewer send an
 * update after each save, which the server refuses and answers by closing the
 * connection; for editors it was one extra update per save and per browser.
 */
import { DocumentChange, YDocument, YFile, YNotebook } from '@jupyter/ydoc';
import * as Y from 'yjs';

/** The state keys that stay in this browser (never written to the shared `state`). */
export const LOCAL_STATE_KEYS: ReadonlySet<string> = new Set(['dirty']);

type DocumentClass<T extends YDocument<DocumentChange>> = new (...args: any[]) => T;

/**
 * Subclass a shared document class so that `dirty` lives in this object: reading it
 * never looks at the shared `state` map, writing it never writes there, and a `dirty`
 * value another client (an older version) writes there is ignored.
 */
function withLocalDirty<T extends YDocument<DocumentChange>>(Base: DocumentClass<T>) {
  // typed as YFile only to name a concrete class: what is used is YDocument's
  return class extends (Base as unknown as DocumentClass<YFile>) {
    constructor(...args: any[]) {
      super(...args);
      // re-subscribe the state observer so that local keys written remotely are dropped
      this.ystate.unobserve(this.onStateChanged);
      const forward = this.onStateChanged;
      this.onStateChanged = (event: Y.YMapEvent<any>): void => {
        if ([...event.keysChanged].some(key => !LOCAL_STATE_KEYS.has(key))) {
          forward(filteredEvent(event));
        }
      };
      this.ystate.observe(this.onStateChanged);
      // dirty: this browser changed the content since the room last saved it (the
      // provider clears it on the room's `saved` event); remote changes and state-only
      // transactions leave it alone
      this.ydoc.on('afterTransaction', this._markDirty);
    }

    dispose(): void {
      this.ydoc.off('afterTransaction', this._markDirty);
      super.dispose();
    }

    private _markDirty = (transaction: Y.Transaction): void => {
      if (!transaction.local) {
        return;
      }
      for (const type of transaction.changed.keys()) {
        if (type !== (this.ystate as unknown as Y.AbstractType<any>)) {
          this.dirty = true;
          return;
        }
      }
    };

    get dirty(): boolean {
      return this._localDirty;
    }

    set dirty(value: boolean) {
      if (value === this._localDirty) {
        return;
      }
      const oldValue = this._localDirty;
      this._localDirty = value;
      this._changed.emit({ stateChange: [{ name: 'dirty', oldValue, newValue: value }] });
    }

    private _localDirty = false;
  } as unknown as DocumentClass<T>;
}

/** A view of a state event without the local keys (the observer reads only these). */
function filteredEvent(event: Y.YMapEvent<any>): Y.YMapEvent<any> {
  const keysChanged = new Set([...event.keysChanged].filter(k => !LOCAL_STATE_KEYS.has(k)));
  return {
    keysChanged,
    changes: event.changes
  } as unknown as Y.YMapEvent<any>;
}

/** A live notebook: `YNotebook` with a per-browser `dirty`. */
export const CollabNotebook = withLocalDirty(YNotebook);
export type CollabNotebook = YNotebook;

/** A live text file: `YFile` with a per-browser `dirty`. */
export const CollabFile = withLocalDirty(YFile);
export type CollabFile = YFile;
