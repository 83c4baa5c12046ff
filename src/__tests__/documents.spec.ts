import * as Y from 'yjs';

import { CellNumbers, CollabFile, CollabNotebook } from '../provider';

describe('CollabNotebook and CollabFile', () => {
  it.each([
    ['notebook', () => new CollabNotebook()],
    ['file', () => new CollabFile()]
  ])('keep a %s dirty flag in the browser: setting it writes nothing shared', (_, make) => {
    const document = make();
    const updates: Uint8Array[] = [];
    document.ydoc.on('update', (update: Uint8Array) => updates.push(update));
    const changes: unknown[] = [];
    document.changed.connect((__, change) => changes.push(change.stateChange));

    document.dirty = true;
    document.dirty = true;
    document.dirty = false;

    expect(updates).toHaveLength(0);
    expect(document.ystate.has('dirty')).toBe(false);
    expect(document.dirty).toBe(false);
    expect(changes).toEqual([
      [{ name: 'dirty', oldValue: false, newValue: true }],
      [{ name: 'dirty', oldValue: true, newValue: false }]
    ]);
  });

  it('becomes dirty on a local edit, without writing the flag to the room', () => {
    const notebook = new CollabNotebook();
    notebook.insertCell(0, { cell_type: 'markdown', source: '' });
    notebook.dirty = false;
    const room = new Y.Doc();
    notebook.ydoc.on('update', (update: Uint8Array) => Y.applyUpdate(room, update));

    notebook.getCell(0).setSource('x = 1');

    expect(notebook.dirty).toBe(true);
    expect(room.getMap('state').has('dirty')).toBe(false);
  });

  it('ignores a dirty flag another client writes, and still reports other state', () => {
    const notebook = new CollabNotebook();
    const changes: unknown[] = [];
    notebook.changed.connect((_, change) => changes.push(change.stateChange));
    const other = new Y.Doc();
    other.getMap('state').set('dirty', true);
    other.getMap('state').set('path', 'a.ipynb');

    Y.applyUpdate(notebook.ydoc, Y.encodeStateAsUpdate(other));

    expect(notebook.dirty).toBe(false);
    expect(changes).toEqual([[{ name: 'path', oldValue: undefined, newValue: 'a.ipynb' }]]);
  });
});

describe('CellNumbers', () => {
  function cellsOf(notebook: CollabNotebook): Y.Array<unknown> {
    return notebook.ydoc.getArray('cells');
  }

  it('numbers cells from 1 and follows inserts and moves', () => {
    const notebook = new CollabNotebook();
    notebook.insertCells(0, ['a', 'b', 'c'].map(id => ({ id, cell_type: 'markdown' as const })));
    const numbers = new CellNumbers(cellsOf(notebook));
    expect(['a', 'b', 'c'].map(id => numbers.numberOf(id))).toEqual([1, 2, 3]);

    notebook.moveCell(0, 2);
    notebook.insertCell(0, { id: 'new', cell_type: 'markdown' });

    expect(['new', 'b', 'c', 'a'].map(id => numbers.numberOf(id))).toEqual([1, 2, 3, 4]);
    expect(numbers.numberOf('never')).toBeNull();
  });

  it('remembers where a deleted cell was', () => {
    const notebook = new CollabNotebook();
    notebook.insertCells(0, ['a', 'b', 'c'].map(id => ({ id, cell_type: 'markdown' as const })));
    const numbers = new CellNumbers(cellsOf(notebook));

    notebook.deleteCell(1);

    expect(numbers.numberOf('b')).toBe(2);
    expect(numbers.numberOf('c')).toBe(2);
  });
});
