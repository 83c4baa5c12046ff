import { EditorState } from '@codemirror/state';
import { EditorView } from '@codemirror/view';
import { Signal } from '@lumino/signaling';

import { canEdit } from '../connection';
import { readOnlyNotice, readOnlyWhile } from '../roles';

const tick = (): Promise<void> => new Promise(resolve => setTimeout(resolve, 0));

describe('readOnlyWhile', () => {
  it('locks the editor for readers and unlocks it live when the role changes', async () => {
    let role = 'viewer';
    const changed = new Signal<any, void>({});
    const view = new EditorView({
      state: EditorState.create({
        doc: 'x = 1',
        extensions: readOnlyWhile({ isReadOnly: () => !canEdit(role), changed })
      }),
      parent: document.body
    });
    expect(view.state.readOnly).toBe(true);

    role = 'editor';
    changed.emit();
    await tick();
    expect(view.state.readOnly).toBe(false);

    role = 'commenter';
    changed.emit();
    await tick();
    expect(view.state.readOnly).toBe(true);
    view.destroy();
    changed.emit(); // a destroyed view no longer listens
    await tick();
  });

  it('never unlocks an editor JupyterLab itself keeps read-only', async () => {
    const changed = new Signal<any, void>({});
    const view = new EditorView({
      state: EditorState.create({
        extensions: [
          EditorState.readOnly.of(true),
          readOnlyWhile({ isReadOnly: () => false, changed })
        ]
      })
    });
    expect(view.state.readOnly).toBe(true);
    view.destroy();
  });
});

describe('roles', () => {
  it('only editors and owners edit; readers get a notice saying why', () => {
    expect(['viewer', 'commenter', 'editor', 'owner'].map(canEdit)).toEqual([
      false,
      false,
      true,
      true
    ]);
    expect(readOnlyNotice('viewer')).toContain('You are a viewer');
    expect(readOnlyNotice('commenter')).toContain('You are a commenter');
    expect(readOnlyNotice('editor')).toBeNull();
    expect(readOnlyNotice(null)).toBeNull();
  });
});
