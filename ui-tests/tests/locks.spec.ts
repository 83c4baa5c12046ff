/**
 * Cell locks: the owner locks a cell from its context menu; it shows a lock for
 * everyone, an editor cannot change it (but can edit other cells), and after the owner
 * unlocks it the editor types in it. The server refuses locked-cell changes on its own
 * (tests/test_locks.py); the UI spares the editor the attempt.
 */
import { expect, Page, test } from '@playwright/test';

import {
  editorText,
  expectEditorText,
  notebook,
  openPair,
  putFile,
  screenshots
} from './helpers';

/** Right-click cell `index` of the visible notebook and pick `label`. */
async function fromContextMenu(page: Page, index: number, label: string) {
  const cell = page.locator('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell');
  await cell.nth(index).locator('.jp-InputPrompt').click({ button: 'right' });
  await page.locator('.lm-Menu-itemLabel', { hasText: new RegExp(`^${label}$`) }).click();
}

test('an owner locks a cell: an editor cannot change it until it is unlocked', async ({
  browser,
  request
}, testInfo) => {
  const nb = 'locks.ipynb';
  await putFile(request, 'alice', nb, notebook('locked = 1', 'free = 2'));
  const { alice, bob, a, b } = await openPair(browser, nb, 'locks');
  await expectEditorText(b.cell(0), 'locked = 1');

  // bob is an editor: no "Lock Cell" for him
  await b.cells.nth(0).locator('.jp-InputPrompt').click({ button: 'right' });
  await expect(bob.locator('.lm-Menu').first()).toBeVisible();
  await expect(bob.locator('.lm-Menu-itemLabel', { hasText: /^Lock Cell$/ })).toBeHidden();
  await bob.keyboard.press('Escape');

  // 1. alice locks the first cell: both see the lock
  await fromContextMenu(alice, 0, 'Lock Cell');
  await expect(b.cells.nth(0).locator('.jp-collab-cell-lock')).toBeVisible();
  await expect(a.cells.nth(0).locator('.jp-collab-cell-lock')).toBeVisible();
  await expect(b.cells.nth(1).locator('.jp-collab-cell-lock')).toHaveCount(0);

  // 2. bob cannot type into it, but can into the other cell
  await b.cell(0).click();
  await bob.keyboard.press('End');
  await bob.keyboard.type(' + 1');
  expect(await editorText(b.cell(0))).toBe('locked = 1');
  await b.cell(1).click();
  await bob.keyboard.press('End');
  await bob.keyboard.type(' + 2');
  await expectEditorText(a.cell(1), 'free = 2 + 2');
  // the owner still can
  await a.cell(0).click();
  await alice.keyboard.press('End');
  await alice.keyboard.type(' # by alice');
  await expectEditorText(b.cell(0), 'locked = 1 # by alice');
  await screenshots(testInfo, 'locked', { alice, bob });

  // 3. alice unlocks it: bob types in it without reloading
  await fromContextMenu(alice, 0, 'Unlock Cell');
  await expect(b.cells.nth(0).locator('.jp-collab-cell-lock')).toHaveCount(0);
  await b.cell(0).click();
  await bob.keyboard.press('End');
  await bob.keyboard.type(' + 3');
  await expectEditorText(a.cell(0), 'locked = 1 # by alice + 3');

  await alice.context().close();
  await bob.context().close();
});
