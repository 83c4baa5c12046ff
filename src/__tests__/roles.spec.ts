import { EditorState } from '@codemirror/state';
import { EditorView } from '@codemirror/view';
import { Signal } from '@lumino/signaling';

import { canEdit } from '../connection';
import {
  LOCK_CLASS,
  readOnlyNotice,
  readOnlyWhile,
  renderLocks,
  roleChangeNotice,
  RoleNotices
} from '../roles';

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

describe('renderLocks', () => {
  it('puts a lock on locked cells only, and takes it off when unlocked', () => {
    const cells = ['c1', 'c2'].map(id => ({
      model: { id },
      node: document.createElement('div')
    }));
    renderLocks(cells, new Set(['c2']), false);
    expect(cells.map(c => c.node.querySelectorAll(`.${LOCK_CLASS}`).length)).toEqual([0, 1]);
    expect(cells[1].node.classList.contains('jp-collab-locked')).toBe(true);
    expect(cells[1].node.querySelector(`.${LOCK_CLASS}`)!.getAttribute('title')).toContain(
      'read-only'
    );
    expect(cells[1].node.querySelector(`.${LOCK_CLASS} svg`)).not.toBeNull();

    renderLocks(cells, new Set(['c2']), true); // re-rendering keeps one icon
    expect(cells[1].node.querySelectorAll(`.${LOCK_CLASS}`)).toHaveLength(1);
    expect(cells[1].node.querySelector(`.${LOCK_CLASS}`)!.getAttribute('title')).toContain(
      'only owners'
    );

    renderLocks(cells, new Set(), true);
    expect(cells[1].node.querySelector(`.${LOCK_CLASS}`)).toBeNull();
    expect(cells[1].node.classList.contains('jp-collab-locked')).toBe(false);
  });
});

describe('role change notices', () => {
  it('says the new role and what it allows, by file name', () => {
    expect(roleChangeNotice(['course/w1.ipynb'], 'editor')).toBe(
      'Your role on w1.ipynb is now editor: you can edit it.'
    );
    expect(roleChangeNotice(['w1.ipynb'], 'viewer')).toBe(
      'Your role on w1.ipynb is now viewer: you can read it and follow others live, not edit it.'
    );
    expect(roleChangeNotice(['a.ipynb', 'b.py', 'c.md'], 'commenter')).toBe(
      'Your role on a.ipynb and 2 other documents is now commenter.'
    );
    const long = `${'x'.repeat(100)}.ipynb`;
    expect(roleChangeNotice([long], 'viewer')).toBe(`Your role on ${long} is now viewer.`);
  });

  it('shows one notice per change, gathering changes that arrive together', () => {
    jest.useFakeTimers();
    try {
      const shown: string[] = [];
      const notices = new RoleNotices({ show: m => shown.push(m), gatherMs: 100 });
      notices.add('a.ipynb', 'editor');
      notices.add('b.ipynb', 'editor');
      expect(shown).toEqual([]);
      jest.advanceTimersByTime(100);
      expect(shown).toEqual(['Your role on a.ipynb and 1 other document is now editor.']);
      jest.advanceTimersByTime(1000);
      expect(shown).toHaveLength(1); // once

      notices.add('a.ipynb', 'editor');
      notices.add('a.ipynb', 'viewer'); // changed again before it showed: the latest
      jest.advanceTimersByTime(100);
      expect(shown.slice(1)).toEqual([
        'Your role on a.ipynb is now viewer: you can read it and follow others live, not edit it.'
      ]);
    } finally {
      jest.useRealTimers();
    }
  });
});
