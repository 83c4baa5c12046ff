/**
 * The Share dialog: the owner gives a person a role (their editor turns read-only live)
 * and creates, copies and revokes a share link whose page then stops working.
 */
import { expect, Page, test } from '@playwright/test';

import { editorText, expectEditorText, notebook, openPair, putFile, screenshots } from './helpers';

async function openShareDialog(page: Page) {
  const cell = page.locator('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell');
  await cell.first().locator('.jp-InputPrompt').click({ button: 'right' });
  await page.locator('.lm-Menu-itemLabel', { hasText: /^Share…$/ }).click();
  const dialog = page.locator('.jp-Dialog', { hasText: 'Share shared-dialog.ipynb' });
  await expect(dialog).toBeVisible();
  return dialog;
}

test('the owner shares a notebook with a person and by link from the Share dialog', async ({
  browser,
  request
}, testInfo) => {
  const nb = 'shared-dialog.ipynb';
  await putFile(request, 'alice', nb, notebook('x = 1'));
  const { alice, bob, b } = await openPair(browser, nb, 'sharing');
  await expectEditorText(b.cell(0), 'x = 1');

  // bob (an editor by default) has no Share… in his menu
  await b.cells.first().locator('.jp-InputPrompt').click({ button: 'right' });
  await expect(bob.locator('.lm-Menu').first()).toBeVisible();
  await expect(bob.locator('.lm-Menu-itemLabel', { hasText: /^Share…$/ })).toBeHidden();
  await bob.keyboard.press('Escape');

  // 1. alice makes bob a viewer of this notebook: his editor turns read-only live
  const dialog = await openShareDialog(alice);
  await dialog.locator('.jp-collab-share-who').fill('bob');
  await dialog.locator('.jp-collab-share-add select').first().selectOption('viewer');
  await dialog.getByRole('button', { name: 'Add' }).click();
  const bobRow = dialog.locator('li[data-principal="bob"]');
  await expect(bobRow.locator('select')).toHaveValue('viewer');
  await expect(
    bob.locator('.jp-MainAreaWidget:not(.lm-mod-hidden) .jp-collab-readonly-notice')
  ).toContainText('You are a viewer');
  await b.cell(0).click();
  await bob.keyboard.type('typed by a viewer');
  expect(await editorText(b.cell(0))).toBe('x = 1');

  // 2. alice creates a link; its page works for anyone until she revokes it
  await dialog.getByRole('button', { name: 'Create link' }).click();
  const copy = dialog.getByRole('button', { name: 'Copy link' });
  await expect(copy).toHaveCount(1);
  const url = (await copy.getAttribute('data-url'))!;
  expect(url).toContain('/collab/join/');
  await screenshots(testInfo, 'share-dialog', { alice });
  const stranger = await (await browser.newContext()).newPage();
  await stranger.goto(url);
  await expect(stranger.locator('body')).toContainText(`shared ${nb} with you as a viewer`);

  await dialog.getByRole('button', { name: 'Revoke' }).click();
  await expect(copy).toHaveCount(0);
  const gone = await stranger.goto(url);
  expect(gone?.status()).toBe(404);

  // 3. removing bob's membership gives him the default role (editor) back, live
  await bobRow.getByRole('button', { name: 'Remove' }).click();
  await expect(bobRow).toHaveCount(0);
  await expect(
    bob.locator('.jp-MainAreaWidget:not(.lm-mod-hidden) .jp-collab-readonly-notice')
  ).toBeHidden();
  await dialog.getByRole('button', { name: 'Done' }).click();

  await stranger.context().close();
  await alice.context().close();
  await bob.context().close();
});
