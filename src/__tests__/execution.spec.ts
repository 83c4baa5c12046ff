import type { INotebookCellExecutor } from '@jupyterlab/notebook';

import {
  applyRights,
  guardedExecutor,
  keepOutputsWhile,
  maySave,
  NO_RUN_CLASS,
  NO_SAVE_CLASS,
  RefusalItem,
  runRefusal,
  runRefusedMessage
} from '../execution';

/** The options JupyterLab passes for one cell, reduced to what the guard reads. */
function runOf(type: string, sharedModel: unknown): INotebookCellExecutor.IRunCellOptions {
  return {
    cell: { model: { type } },
    notebook: { sharedModel }
  } as unknown as INotebookCellExecutor.IRunCellOptions;
}

describe('runRefusal', () => {
  it('lets owners, and editors the server allows, run code', () => {
    expect(runRefusal({ role: 'owner', canExecute: true })).toBeNull();
    expect(runRefusal({ role: 'editor', canExecute: true })).toBeNull();
  });

  it('says why editors the owner did not allow may not run code', () => {
    expect(runRefusal({ role: 'editor', canExecute: false })).toBe(
      'the owner has not allowed editors to run code'
    );
  });

  it('tells readers the document is read-only for them, whatever the session said', () => {
    expect(runRefusal({ role: 'viewer', canExecute: false })).toMatch(
      /viewer of this document: it is read-only/
    );
    // an editor turned commenter live keeps the session's can_execute, not the right
    expect(runRefusal({ role: 'commenter', canExecute: true })).toMatch(/commenter/);
  });

  it('refuses nothing before the role is known or outside live documents', () => {
    expect(runRefusal(undefined)).toBeNull();
    expect(runRefusal({ role: null, canExecute: false })).toBeNull();
  });

  it('builds the tooltip from the reason', () => {
    expect(runRefusedMessage('the owner has not allowed editors to run code')).toBe(
      "You can't run code here: the owner has not allowed editors to run code."
    );
  });
});

describe('maySave', () => {
  it('lets editors and owners save, not readers', () => {
    expect(maySave({ role: 'editor', canExecute: false })).toBe(true);
    expect(maySave({ role: 'owner', canExecute: true })).toBe(true);
    expect(maySave({ role: 'viewer', canExecute: false })).toBe(false);
    expect(maySave({ role: 'commenter', canExecute: false })).toBe(false);
    expect(maySave(undefined)).toBe(true);
  });
});

describe('guardedExecutor', () => {
  const blocked = { name: 'blocked notebook' };
  const allowed = { name: 'allowed notebook' };
  const make = () => {
    const base = { runCell: jest.fn(async () => true) };
    const refused = jest.fn();
    const executor = guardedExecutor({
      base,
      refusal: model => (model === blocked ? 'the owner has not allowed editors to run code' : null),
      refused
    });
    return { base, refused, executor };
  };

  it('never hands a refused code cell to JupyterLab, which would clear its outputs', async () => {
    const { base, refused, executor } = make();
    const run = runOf('code', blocked);
    await expect(executor.runCell(run)).resolves.toBe(false);
    expect(base.runCell).not.toHaveBeenCalled();
    expect(refused).toHaveBeenCalledWith('the owner has not allowed editors to run code', run);
  });

  it('runs code cells where running is allowed, and renders markdown everywhere', async () => {
    const { base, refused, executor } = make();
    await expect(executor.runCell(runOf('code', allowed))).resolves.toBe(true);
    await expect(executor.runCell(runOf('markdown', blocked))).resolves.toBe(true);
    expect(base.runCell).toHaveBeenCalledTimes(2);
    expect(refused).not.toHaveBeenCalled();
  });
});

describe('keepOutputsWhile', () => {
  it('makes clearing outputs do nothing while running is refused, and work again after', () => {
    let reason: string | null = 'you are a viewer of this document';
    const cleared = jest.fn();
    const refused = jest.fn();
    const cell = { clearExecution: cleared };
    keepOutputsWhile(cell, () => reason, refused);

    cell.clearExecution();
    expect(cleared).not.toHaveBeenCalled();
    expect(refused).toHaveBeenCalledWith('you are a viewer of this document');

    reason = null;
    cell.clearExecution();
    expect(cleared).toHaveBeenCalledTimes(1);
  });

  it('guards a cell once, however often it is seen', () => {
    const cleared = jest.fn();
    const cell = { clearExecution: cleared };
    let reason: string | null = null;
    keepOutputsWhile(cell, () => reason);
    keepOutputsWhile(cell, () => null); // a second guard would not see the first's reason
    reason = 'refused';
    cell.clearExecution();
    expect(cleared).not.toHaveBeenCalled();
  });
});

describe('applyRights and RefusalItem', () => {
  it('marks a panel of an editor without the right to run: no Run, Save kept', () => {
    const node = document.createElement('div');
    const reason = applyRights(node, { role: 'editor', canExecute: false });
    expect(reason).toBe('the owner has not allowed editors to run code');
    expect(node.classList.contains(NO_RUN_CLASS)).toBe(true);
    expect(node.classList.contains(NO_SAVE_CLASS)).toBe(false);
  });

  it('marks a reader: no Run, no Save; and unmarks an owner', () => {
    const node = document.createElement('div');
    applyRights(node, { role: 'viewer', canExecute: false });
    expect(node.classList.contains(NO_RUN_CLASS)).toBe(true);
    expect(node.classList.contains(NO_SAVE_CLASS)).toBe(true);
    applyRights(node, { role: 'owner', canExecute: true });
    expect(node.className).toBe('');
  });

  it('shows a disabled Run button whose tooltip says why', () => {
    const item = new RefusalItem('run');
    item.reason = 'the owner has not allowed editors to run code';
    const button = item.node.querySelector('button')!;
    expect(button.disabled).toBe(true);
    expect(button.title).toBe(
      "You can't run code here: the owner has not allowed editors to run code."
    );
    expect(item.node.title).toBe(button.title);
    item.dispose();
  });
});
