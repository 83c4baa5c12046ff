/**
 * Editors that follow this user's role on the document: read-only for viewers and
 * commenters, editable for editors and owners, switched live when an owner changes the
 * role. The server refuses readers' edits anyway (the wall); this only spares people
 * typing that would be refused.
 */
import { Compartment, EditorState, Extension, Prec } from '@codemirror/state';
import { PluginValue, ViewPlugin } from '@codemirror/view';
import { ISignal } from '@lumino/signaling';

/**
 * Options of `readOnlyWhile`.
 */
export interface IReadOnlyOptions {
  /** Whether the editor must be read-only now. */
  isReadOnly(): boolean;
  /** Emits when `isReadOnly()` may have changed. */
  changed: ISignal<any, any>;
}

/** The CodeMirror configuration for a role: nothing at all when editing is allowed. */
function lockFor(readOnly: boolean): Extension {
  // Highest precedence: JupyterLab's own readOnly setting must not unlock it. When not
  // read-only we add nothing, so a cell JupyterLab keeps read-only stays read-only.
  return readOnly ? Prec.highest(EditorState.readOnly.of(true)) : [];
}

/**
 * A CodeMirror extension keeping the editor read-only while `isReadOnly()` holds.
 */
export function readOnlyWhile(options: IReadOnlyOptions): Extension {
  const compartment = new Compartment();
  const initial = options.isReadOnly();
  const follower = ViewPlugin.define((view): PluginValue => {
    let current = initial;
    const apply = (): void => {
      const next = options.isReadOnly();
      if (next !== current) {
        current = next;
        view.dispatch({ effects: compartment.reconfigure(lockFor(next)) });
      }
    };
    // signals may fire while CodeMirror is updating: reconfigure right after
    const onChanged = (): void => queueMicrotask(apply);
    options.changed.connect(onChanged);
    queueMicrotask(apply); // the role may have arrived between creation and now
    return {
      destroy(): void {
        options.changed.disconnect(onChanged);
      }
    };
  });
  return [compartment.of(lockFor(initial)), follower];
}

/**
 * The sentence shown above a document the user may not edit, or `null`.
 */
export function readOnlyNotice(role: string | null): string | null {
  switch (role) {
    case 'viewer':
      return 'You are a viewer of this document: you can read it and follow others live.';
    case 'commenter':
      return 'You are a commenter on this document: you can read it, not edit it.';
    default:
      return null;
  }
}
