import {
  forbiddenDrop,
  forbiddenEdit,
  forbiddenMove,
  GUARDED_COMMANDS,
  guardCommands,
  GuardedRegistry,
  INotebookView,
  MAX_NOTICE_LENGTH,
  refusalNotice
} from '../roles';

/** Four cells a, b, c, d; the active (and only selected) cell is `active`. */
function view(overrides: Partial<INotebookView> = {}): INotebookView {
  const active = overrides.active ?? 0;
  return {
    role: 'editor',
    locked: new Set(),
    cellIds: ['a', 'b', 'c', 'd'],
    selected: [active],
    active,
    ...overrides
  };
}

const STRUCTURAL = [
  'notebook:delete-cell',
  'notebook:cut-cell',
  'notebook:move-cell-up',
  'notebook:move-cell-down',
  'notebook:merge-cells',
  'notebook:merge-cell-above',
  'notebook:merge-cell-below',
  'notebook:split-cell-at-cursor',
  'notebook:paste-and-replace-cell',
  'notebook:change-cell-to-code',
  'notebook:change-cell-to-markdown',
  'notebook:change-cell-to-raw',
  'notebook:change-cell-to-heading-2'
];

const ADDING = [
  'notebook:insert-cell-above',
  'notebook:insert-cell-below',
  'notebook:paste-cell-above',
  'notebook:paste-cell-below',
  'notebook:duplicate-below'
];

describe('forbiddenEdit', () => {
  it.each(['viewer', 'commenter'])(
    'forbids a %s every command that changes cells, naming the role',
    role => {
      for (const command of GUARDED_COMMANDS) {
        expect(forbiddenEdit(command, view({ role }))).toMatch(/^(Viewers|Commenters) cannot/);
      }
      expect(GUARDED_COMMANDS).toEqual(expect.arrayContaining([...STRUCTURAL, ...ADDING]));
    }
  );

  it('lets readers run commands that change nothing (copy, select, collapse)', () => {
    for (const command of [
      'notebook:copy-cell',
      'notebook:select-all',
      'notebook:hide-cell-outputs',
      'notebook:enter-command-mode'
    ]) {
      expect(forbiddenEdit(command, view({ role: 'viewer' }))).toBeNull();
    }
  });

  it('forbids nothing while the role is unknown, nor to an editor without locks', () => {
    for (const command of GUARDED_COMMANDS) {
      expect(forbiddenEdit(command, view({ role: null }))).toBeNull();
      expect(forbiddenEdit(command, view({ active: 1 }))).toBeNull();
    }
  });

  it('forbids an editor to delete, cut, move, merge, split or retype a locked cell, naming its number', () => {
    const locked = view({ locked: new Set(['c']), active: 2 });

    for (const command of STRUCTURAL) {
      expect(forbiddenEdit(command, locked)).toBe('Cell 3 is locked by an owner.');
    }
  });

  it('lets an editor add cells next to a locked cell', () => {
    const locked = view({ locked: new Set(['c']), active: 2 });

    for (const command of ADDING) {
      expect(forbiddenEdit(command, locked)).toBeNull();
    }
  });

  it('lets an owner do anything to a locked cell', () => {
    const locked = view({ role: 'owner', locked: new Set(['c']), active: 2 });

    for (const command of GUARDED_COMMANDS) {
      expect(forbiddenEdit(command, locked)).toBeNull();
    }
  });

  it('checks every selected cell, and the neighbour a merge takes in', () => {
    const locked = new Set(['c']);

    expect(
      forbiddenEdit('notebook:delete-cell', view({ locked, active: 0, selected: [0, 1, 2] }))
    ).toBe('Cell 3 is locked by an owner.');
    expect(forbiddenEdit('notebook:delete-cell', view({ locked, active: 1 }))).toBeNull();
    // a lone cell merges with the one below; "above" and "below" take a neighbour
    expect(forbiddenEdit('notebook:merge-cells', view({ locked, active: 1 }))).toBe(
      'Cell 3 is locked by an owner.'
    );
    expect(forbiddenEdit('notebook:merge-cell-below', view({ locked, active: 1 }))).not.toBeNull();
    expect(forbiddenEdit('notebook:merge-cell-above', view({ locked, active: 3 }))).not.toBeNull();
    expect(forbiddenEdit('notebook:merge-cell-above', view({ locked, active: 1 }))).toBeNull();
    // moving the cell below a locked one moves only that cell
    expect(forbiddenEdit('notebook:move-cell-up', view({ locked, active: 3 }))).toBeNull();
  });
});

describe('forbiddenMove and forbiddenDrop', () => {
  it('forbids dragging a locked cell, not others, to a non-owner', () => {
    const locked = view({ locked: new Set(['b']) });

    expect(forbiddenMove(['a', 'b'], locked)).toBe('Cell 2 is locked by an owner.');
    expect(forbiddenMove(['c'], locked)).toBeNull();
    expect(forbiddenMove(['b'], view({ role: 'owner', locked: new Set(['b']) }))).toBeNull();
  });

  it('forbids a reader any move, and any drop of cells from elsewhere', () => {
    expect(forbiddenMove(['a'], view({ role: 'viewer' }))).toMatch(/^Viewers cannot/);
    expect(forbiddenDrop(view({ role: 'commenter' }))).toMatch(/^Commenters cannot/);
    expect(forbiddenDrop(view())).toBeNull();
  });
});

/** A registry standing in for Lumino's: records what ran. */
class FakeRegistry implements GuardedRegistry {
  ran: string[] = [];
  isEnabled(id: string): boolean {
    return id !== 'core:disabled';
  }
  execute(id: string): Promise<any> {
    this.ran.push(id);
    return Promise.resolve(id);
  }
}

describe('guardCommands', () => {
  it('disables and skips vetoed commands; others keep their own state', async () => {
    const registry = new FakeRegistry();
    const refused: string[] = [];
    guardCommands(
      registry,
      id => (id === 'notebook:delete-cell' ? 'Cell 2 is locked by an owner.' : null),
      ['notebook:delete-cell', 'notebook:cut-cell', 'core:disabled'],
      reason => refused.push(reason)
    );

    expect(registry.isEnabled('notebook:delete-cell')).toBe(false);
    expect(registry.isEnabled('notebook:cut-cell')).toBe(true);
    expect(registry.isEnabled('core:disabled')).toBe(false);
    expect(await registry.execute('notebook:delete-cell')).toBeUndefined();
    expect(await registry.execute('notebook:cut-cell')).toBe('notebook:cut-cell');

    expect(registry.ran).toEqual(['notebook:cut-cell']);
    expect(refused).toEqual(['Cell 2 is locked by an owner.']);
  });

  it('asks the veto only about the commands it guards', () => {
    const registry = new FakeRegistry();
    const asked: string[] = [];
    guardCommands(
      registry,
      id => {
        asked.push(id);
        return null;
      },
      ['notebook:delete-cell']
    );

    registry.isEnabled('docmanager:save');
    registry.isEnabled('notebook:delete-cell');

    expect(asked).toEqual(['notebook:delete-cell']);
  });

  it('is removed by dispose', async () => {
    const registry = new FakeRegistry();
    const guard = guardCommands(registry, () => 'no', ['x']);

    guard.dispose();

    expect(registry.isEnabled('x')).toBe(true);
    expect(await registry.execute('x')).toBe('x');
    expect(guard.isDisposed).toBe(true);
  });
});

describe('refusalNotice', () => {
  const reason = (what: string) =>
    `cell 0b7e3c1a-5f7d-4d2e-9a57-2f8c1d6e4b3a is locked: ${what}; the change was not ` +
    'applied: reload to get the shared version';

  it('names a locked cell by its number, not its id', () => {
    const notice = refusalNotice('analysis.ipynb', reason('it cannot be deleted'), id =>
      id === '0b7e3c1a-5f7d-4d2e-9a57-2f8c1d6e4b3a' ? 3 : null
    );

    expect(notice).toBe(
      'Cell 3 is locked by an owner: it cannot be deleted. Reloading analysis.ipynb.'
    );
  });

  it('says "a cell" when the number is unknown', () => {
    expect(refusalNotice('a.ipynb', reason('its source cannot change'))).toBe(
      'A cell is locked by an owner: its source cannot change. Reloading a.ipynb.'
    );
  });

  it("words a reader's refused edit in one short sentence", () => {
    const notice = refusalNotice(
      'a.ipynb',
      'viewers cannot edit a.ipynb: the change was not applied; reload to get the shared version'
    );

    expect(notice).toBe('Viewers cannot edit a.ipynb. Reloading it.');
  });

  it('names the cell whose outputs someone who may not run code tried to change', () => {
    const notice = refusalNotice(
      'a.ipynb',
      'cell c-1: only people who may run code change its outputs; the change was not ' +
        'applied: reload to get the shared version',
      id => (id === 'c-1' ? 2 : null)
    );

    expect(notice).toBe(
      'Only people who may run code change the outputs of cell 2. Reloading a.ipynb.'
    );
  });

  it('fits any reason into a notification, cut at a word', () => {
    const notice = refusalNotice(`${'long name '.repeat(10)}.ipynb`, 'x '.repeat(200));

    expect(notice.length).toBeLessThanOrEqual(MAX_NOTICE_LENGTH);
    expect(notice.endsWith('…')).toBe(true);
  });
});
