/**
 * History (issue 13), with the default server of the browser tests (token login, alice
 * owns the server, bob and carol are editors): bob and alice each change a cell, alice
 * names the version; the History panel lists it with both as authors; a preview of the
 * first version shows the old text and restores one cell for everyone; the comparison
 * with now shows the changed cell.
 */
import { expect, Page, test } from '@playwright/test';

import { editorIn, expectEditorText, notebook, openAs, putFile, screenshots } from './helpers';

async function palette(page: Page, label: string): Promise<void> {
  await page.keyboard.press('Control+Shift+C');
  const modal = page.locator('#modal-command-palette');
  await expect(modal.locator('.lm-CommandPalette-input')).toBeVisible();
  await page.keyboard.type(label);
  await modal.locator('.lm-CommandPalette-item', { hasText: label }).first().click();
}

async function typeAtEndOf(page: Page, cell: number, text: string): Promise<void> {
  await editorIn(page).cell(cell).click();
  await page.keyboard.press('Control+End');
  await page.keyboard.type(text);
}

test('versions with authors, a preview that restores a cell, and a comparison', async ({
  browser,
  request
}, testInfo) => {
  test.setTimeout(180_000);
  const nb = 'history.ipynb';
  await putFile(request, 'alice', nb, notebook('x = 1', 'y = 2'));
  const alice = await openAs(browser, 'alice', nb, { workspace: 'alice-history' });
  const bob = await openAs(browser, 'bob', nb, { workspace: 'bob-history' });
  for (const page of [alice, bob]) {
    await expect(editorIn(page).cells).toHaveCount(2);
  }

  // 1. bob changes the first cell, alice the second; each sees the other's change
  await typeAtEndOf(bob, 0, ' + 10');
  await expectEditorText(editorIn(alice).cell(0), 'x = 1 + 10');
  await typeAtEndOf(alice, 1, ' + 20');
  await expectEditorText(editorIn(bob).cell(1), 'y = 2 + 20');

  // 2. the History panel: alice names this version; it is listed with both as authors
  await palette(alice, 'Show Document History');
  const panel = alice.locator('.jp-collab-history');
  await expect(panel).toBeVisible();
  const versions = panel.locator('.jp-collab-history-version');
  await expect(versions.first()).toBeVisible();
  await panel.locator('.jp-collab-history-button', { hasText: 'Name this version…' }).click();
  const dialog = alice.locator('.jp-Dialog');
  await dialog.locator('input').fill('both typed');
  await dialog.locator('.jp-Dialog-button.jp-mod-accept').click();
  const named = versions.filter({ hasText: 'both typed' });
  await expect(named).toHaveCount(1);
  await expect(named.locator('.jp-collab-history-authors')).toHaveText('alice, bob');
  await expect(versions).toHaveCount(2); // newest first: the named one, then as first opened
  await expect(panel.locator('.jp-collab-history-footer')).toContainText('History:');
  await screenshots(testInfo, 'history-panel', { alice });

  // 3. preview the first version: the old text, read-only; restore its first cell
  await versions.last().locator('.jp-collab-history-button', { hasText: 'Preview' }).click();
  const preview = alice.locator('.jp-collab-history-preview:not(.lm-mod-hidden)');
  await expect(preview.locator('.jp-collab-history-source').first()).toHaveText('x = 1');
  await preview
    .locator('.jp-collab-history-cell')
    .first()
    .locator('.jp-collab-history-button', { hasText: 'Restore this cell' })
    .click();
  await alice.locator('.jp-Dialog .jp-Dialog-button', { hasText: 'Restore' }).click();
  // everyone sees it, and the other cell keeps alice's change
  await expectEditorText(editorIn(bob).cell(0), 'x = 1');
  await expectEditorText(editorIn(bob).cell(1), 'y = 2 + 20');
  await expect(versions.filter({ hasText: 'restored' })).toHaveCount(1);

  // 4. compare the named version with now: the first cell changed back
  await named.locator('.jp-collab-history-button', { hasText: 'Compare with now' }).click();
  const comparison = alice.locator('.jp-collab-history-comparison:not(.lm-mod-hidden)');
  const changed = comparison.locator('.jp-mod-changed');
  await expect(changed).toHaveCount(1);
  await expect(changed).toContainText('x = 1 + 10');
  await screenshots(testInfo, 'history-compare', { alice });

  // gone from the server's presence before the next test looks at who is where
  for (const page of [alice, bob]) {
    await page.context().close();
  }
});
