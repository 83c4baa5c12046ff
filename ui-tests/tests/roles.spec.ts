/**
 * Roles in the browser: an owner makes a collaborator a viewer, whose editors turn
 * read-only live with a notice while they still follow the owner's edits and cursor;
 * raised to editor, they type without reloading. The server is the wall: a refused
 * change never reaches anyone (tests/handlers/test_roles.py); here the UI spares the
 * viewer the attempt.
 */
import { APIRequestContext, expect, Page, test } from '@playwright/test';

import {
  authHeaders,
  editorText,
  expectEditorText,
  notebook,
  openPair,
  putFile,
  screenshots,
  USERS
} from './helpers';

/** alice (the owner) gives `user` `role` on `path` through the members API. */
async function grant(
  request: APIRequestContext,
  path: string,
  user: string,
  role: string
): Promise<void> {
  const response = await request.put(`/api/collab/members/${path}`, {
    headers: authHeaders('alice'),
    data: { principal: user, role }
  });
  expect(response.ok(), await response.text()).toBeTruthy();
}

function notice(page: Page) {
  return page.locator('.jp-MainAreaWidget:not(.lm-mod-hidden) .jp-collab-readonly-notice');
}

test('a viewer cannot type, follows live, and types once raised to editor, without reloading', async ({
  browser,
  request
}, testInfo) => {
  const nb = 'roles.ipynb';
  await putFile(request, 'alice', nb, notebook('shared = 1'));
  const { alice, bob, a, b } = await openPair(browser, nb, 'roles');
  await expectEditorText(b.cell(0), 'shared = 1');
  await expect(notice(bob)).toBeHidden(); // an editor by default

  // 1. alice makes bob a viewer: his editor turns read-only at once, with a notice
  await grant(request, nb, 'bob', 'viewer');
  await expect(notice(bob)).toBeVisible();
  await expect(notice(bob)).toContainText('You are a viewer');
  await expect(notice(alice)).toBeHidden();
  await b.cell(0).click();
  await bob.keyboard.press('End');
  await bob.keyboard.type(' + 1');
  expect(await editorText(b.cell(0))).toBe('shared = 1');

  // 2. he still follows alice live: her text and her caret with her name
  await a.cell(0).click();
  await alice.keyboard.press('End');
  await alice.keyboard.type(' + 2');
  await expectEditorText(b.cell(0), 'shared = 1 + 2');
  await expect(b.remoteLabel(USERS.alice.display_name)).toHaveCount(1);
  // and the Collaborators panel shows him as a viewer to alice
  await alice.locator('.jp-SideBar li[data-id="jp-collab-people"]').click();
  await expect(
    alice.locator('.jp-collab-person[data-username="bob"] .jp-collab-role')
  ).toHaveText('viewer');
  await expect(notice(bob)).toBeVisible();
  await screenshots(testInfo, 'viewer', { alice, bob });

  // 3. alice raises him to editor: he types without reloading, she sees it
  await grant(request, nb, 'bob', 'editor');
  await expect(notice(bob)).toBeHidden();
  await b.cell(0).click();
  await bob.keyboard.press('End');
  await bob.keyboard.type(' + 3');
  await expectEditorText(a.cell(0), 'shared = 1 + 2 + 3');
  await expect(
    alice.locator('.jp-collab-person[data-username="bob"] .jp-collab-role')
  ).toHaveText('editor');
  await screenshots(testInfo, 'editor', { alice, bob });

  await alice.context().close();
  await bob.context().close();
});
