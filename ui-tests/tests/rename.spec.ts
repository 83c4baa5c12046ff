/**
 * Renaming a document that people have open: the room follows on the server, every
 * open tab follows in the browser (title, path, later saves), nothing is lost and the
 * old path is not written again.
 */
import { expect, test } from '@playwright/test';

import {
  authHeaders,
  expectEditorText,
  getFile,
  openPair,
  putFile,
  screenshots,
  typeAtEnd
} from './helpers';

test('a renamed file stays live in every open tab and saves under its new name', async ({
  browser,
  request
}, testInfo) => {
  await putFile(request, 'alice', 'draft.py', 'x = 1\n');
  const { alice, bob, a, b } = await openPair(browser, 'draft.py', 'rename');
  await expectEditorText(b.file, 'x = 1\n');

  // renamed from outside both browsers (another tab, a script, the file browser
  // of a third person): the contents API
  const response = await request.patch('/api/contents/draft.py', {
    headers: authHeaders('alice'),
    data: { path: 'final.py' }
  });
  expect(response.ok()).toBeTruthy();

  for (const page of [alice, bob]) {
    await expect(
      page.locator('.lm-DockPanel-tabBar .lm-TabBar-tab.lm-mod-current .lm-TabBar-tabLabel')
    ).toHaveText('final.py');
  }

  // both keep editing the same live document
  await typeAtEnd(bob, b.file, 'y = 2', { newLine: false });
  await expectEditorText(a.file, 'x = 1\ny = 2');
  await typeAtEnd(alice, a.file, 'z = 3', { newLine: true });
  await expectEditorText(b.file, 'x = 1\ny = 2\nz = 3');

  // bob saves: the new path has everything, the old one stays gone, no dialog
  await b.file.click();
  await bob.keyboard.press('Control+s');
  await expect.poll(() => getFile(request, 'alice', 'final.py')).toBe('x = 1\ny = 2\nz = 3');
  const old = await request.get('/api/contents/draft.py', { headers: authHeaders('alice') });
  expect(old.status()).toBe(404);
  await expect(bob.locator('.jp-Dialog')).toHaveCount(0);
  await screenshots(testInfo, 'renamed', { alice, bob });

  await alice.context().close();
  await bob.context().close();
});
