/**
 * Share links that say what they are (issue 9): the owner creates two links labelled
 * "Period 3" and "Period 4" from the Share dialog; a guest sees on the join page who
 * shared which file, the label and the expiry date, and joins through one; the dialog
 * then shows two distinct rows (label, expiry date and time, creator, "1 guest joined",
 * the guest's name). Raised to editor from the dialog, the guest is told so once. A
 * revoked link's page is a friendly 404.
 */
import { expect, Page, test } from '@playwright/test';

import {
  editorIn,
  expectEditorText,
  notebook,
  openAs,
  putFile,
  screenshots,
  waitForLab
} from './helpers';

const NB = 'link-details.ipynb';

async function openShareDialog(page: Page) {
  const cell = page.locator('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell');
  await cell.first().locator('.jp-InputPrompt').click({ button: 'right' });
  await page.locator('.lm-Menu-itemLabel', { hasText: /^Share…$/ }).click();
  const dialog = page.locator('.jp-Dialog', { hasText: `Share ${NB}` });
  await expect(dialog).toBeVisible();
  return dialog;
}

test('two labelled links show as distinct rows with dates, creator and who joined', async ({
  browser,
  request
}, testInfo) => {
  await putFile(request, 'alice', NB, notebook('lesson = 1'));
  const alice = await openAs(browser, 'alice', NB, { workspace: 'alice-link-details' });
  await expectEditorText(editorIn(alice).cell(0), 'lesson = 1');

  // 1. alice creates "Period 3" (viewer, 1 day) and "Period 4" (editor, 7 days)
  const dialog = await openShareDialog(alice);
  const newRow = dialog.locator('.jp-collab-share-new-link');
  for (const [label, role, expiry] of [
    ['Period 3', 'viewer', '1 day'],
    ['Period 4', 'editor', '7 days']
  ]) {
    await newRow.getByPlaceholder('Label (e.g. Period 3)').fill(label);
    await newRow.getByLabel('Role the new link gives').selectOption(role);
    await newRow.getByLabel('The new link expires after').selectOption(expiry);
    await newRow.getByRole('button', { name: 'Create link' }).click();
    await expect(dialog.locator(`li[data-label="${label}"]`)).toHaveCount(1);
  }
  const rows = dialog.locator('li.jp-collab-share-link');
  await expect(rows).toHaveCount(2);
  const p3 = dialog.locator('li[data-label="Period 3"]');
  const p4 = dialog.locator('li[data-label="Period 4"]');
  for (const row of [p3, p4]) {
    await expect(row.locator('.jp-collab-share-expiry')).toHaveText(/^expires \S.*\d/);
    await expect(row.locator('.jp-collab-share-creator')).toHaveText('created by Alice Liddell');
    await expect(row.locator('.jp-collab-share-usage')).toHaveText('no guests yet');
  }
  const p3Expiry = await p3.locator('.jp-collab-share-expiry').innerText();
  expect(p3Expiry).not.toBe(await p4.locator('.jp-collab-share-expiry').innerText());
  await expect(p4.locator('select')).toHaveValue('editor');

  // 2. the join page says who shared which file, the label and until when
  const url = (await p3.getByRole('button', { name: 'Copy link' }).getAttribute('data-url'))!;
  const guestContext = await browser.newContext({ baseURL: testInfo.project.use.baseURL });
  const guest = await guestContext.newPage();
  await guest.goto(url);
  await expect(guest.locator('.shared')).toHaveText(
    `Alice Liddell shared ${NB} with you as a viewer.`
  );
  await expect(guest.locator('.label')).toHaveText('Period 3');
  await expect(guest.locator('.expiry')).toContainText('The link works until');
  await expect(guest.locator('.expiry')).not.toContainText('UTC'); // in the guest's own time
  await screenshots(testInfo, '1-join-page', { guest });
  await guest.locator('#name').fill('Zoe');
  await guest.getByRole('button', { name: 'Join' }).click();
  await guest.waitForURL(/\/lab\/tree\//);
  await waitForLab(guest);
  await expectEditorText(editorIn(guest).cell(0), 'lesson = 1');

  // 3. alice raises Period 3 to editor from the dialog: the list is read again with
  //    the guest in it, and the guest is told, once
  await p3.locator('select').selectOption('editor');
  await expect(p3.locator('.jp-collab-share-usage summary')).toHaveText(
    /^1 guest joined · last used (just now|\d+ min ago)$/
  );
  await expect(p4.locator('.jp-collab-share-usage')).toHaveText('no guests yet');
  await p3.locator('.jp-collab-share-usage summary').click();
  await expect(p3.locator('.jp-collab-share-guests li')).toHaveText([/^Zoe, joined \S/]);
  await expect(p3.locator('.jp-collab-share-creator')).toHaveText('created by Alice Liddell');
  const toast = guest.locator('.Toastify__toast', {
    hasText: `Your role on ${NB} is now editor: you can edit it.`
  });
  await expect(toast).toHaveCount(1);
  await screenshots(testInfo, '2-dialog', { alice });
  // a second notice of the same change would come before the notice of a later change
  // (events reach the guest in order): lower the link again and wait for that one
  await p3.locator('select').selectOption('viewer');
  await expect(
    guest.locator('.Toastify__toast', { hasText: `Your role on ${NB} is now viewer` })
  ).toHaveCount(1);
  await expect(toast).toHaveCount(1);
  await screenshots(testInfo, '3-role-notice', { guest });

  // 4. a relabelled link keeps its label; a revoked one's page is a friendly 404
  const p4Url = (await p4.getByRole('button', { name: 'Copy link' }).getAttribute('data-url'))!;
  await p4.locator('input.jp-collab-share-label').fill('Period 4 (make-up)');
  await p4.locator('input.jp-collab-share-label').press('Enter');
  await expect(dialog).toBeVisible(); // Enter saved the label, the dialog stayed
  const relabelled = dialog.locator('li[data-label="Period 4 (make-up)"]');
  await expect(relabelled).toHaveCount(1);
  await relabelled.getByRole('button', { name: 'Revoke' }).click();
  await expect(rows).toHaveCount(1);
  const stranger = await (await browser.newContext()).newPage();
  const gone = await stranger.goto(p4Url);
  expect(gone?.status()).toBe(404);
  await expect(stranger.locator('h1')).toHaveText('This link no longer works');
  await expect(stranger.locator('body')).toContainText('Ask the person who shared it');
  await expect(stranger.locator('body')).not.toContainText(NB);
  await screenshots(testInfo, '4-gone', { stranger });

  await dialog.getByRole('button', { name: 'Done' }).click();
  await stranger.context().close();
  await guestContext.close();
  await alice.context().close();
});
