/**
 * Presence: who is in which cell (markers, in command mode too), the Collaborators
 * panel with everyone on the server and their current cell, jumping to a person, and
 * the head count in the status bar.
 */
import { expect, Page, test } from '@playwright/test';

import {
  editorIn,
  notebook,
  openAs,
  openPair,
  putFile,
  screenshots,
  USERS
} from './helpers';

/** Open the Collaborators panel in the left sidebar and return it. */
async function openCollaborators(page: Page) {
  const panel = page.locator('#jp-collab-people');
  if (!(await panel.isVisible())) {
    await page.locator('.jp-SideBar li[data-id="jp-collab-people"]').click();
  }
  await expect(panel).toBeVisible();
  return panel;
}

/** The Collaborators panel row of `user`. */
function personRow(panel: ReturnType<Page['locator']>, user: keyof typeof USERS) {
  return panel.locator(`.jp-collab-person[data-username="${user}"]`);
}

test('cell markers, the Collaborators panel and jumping to a person', async ({
  browser,
  request
}, testInfo) => {
  const nb = 'lesson.ipynb';
  await putFile(request, 'alice', nb, notebook('a = 1', 'b = 2', 'c = 3'));
  await putFile(request, 'carol', 'notes.py', 'print("notes")\n');

  const { alice, bob, a, b } = await openPair(browser, nb, 'presence');
  const carol = await openAs(browser, 'carol', 'notes.py', {
    workspace: 'carol-presence'
  });
  await expect(editorIn(carol).file).toContainText('print');
  await expect(a.cells).toHaveCount(3);
  await expect(b.cells).toHaveCount(3);

  // 1. alice selects the third cell in command mode (no editor focus): bob sees her
  //    initials on that cell, in her colour, and on no other cell
  await a.cells.nth(2).locator('.jp-InputPrompt').click();
  await expect(a.cells.nth(2)).toHaveClass(/jp-mod-active/);
  await expect(a.notebook.locator('.jp-Notebook')).toHaveClass(/jp-mod-commandMode/);
  const marker = b.cells.nth(2).locator('.jp-collab-cell-presence');
  await expect(marker).toHaveText(USERS.alice.initials);
  await expect(marker).toHaveAttribute('title', `${USERS.alice.display_name} is in this cell`);
  await expect(
    b.notebook.locator('.jp-collab-cell-presence', { hasText: USERS.alice.initials })
  ).toHaveCount(1);
  // nobody sees a marker of their own
  await expect(
    a.notebook.locator('.jp-collab-cell-presence', { hasText: USERS.alice.initials })
  ).toHaveCount(0);

  // 2. she moves to the first cell: the marker follows her
  await alice.keyboard.press('ArrowUp');
  await alice.keyboard.press('ArrowUp');
  await expect(b.cells.nth(0).locator('.jp-collab-cell-presence')).toHaveText(
    USERS.alice.initials
  );
  await expect(marker).toHaveCount(0);
  await alice.keyboard.press('ArrowDown'); // back to the second cell for the panel
  await expect(b.cells.nth(1).locator('.jp-collab-cell-presence')).toHaveText(
    USERS.alice.initials
  );

  // 3. bob's Collaborators panel lists all three, with their document and cell
  const panel = await openCollaborators(bob);
  await expect(personRow(panel, 'alice')).toContainText(USERS.alice.display_name);
  await expect(personRow(panel, 'alice').locator('.jp-collab-place')).toHaveText(
    `${nb} · cell 2`
  );
  await expect(personRow(panel, 'alice').locator('.jp-collab-avatar')).toHaveText(
    USERS.alice.initials
  );
  await expect(personRow(panel, 'bob')).toContainText(`${USERS.bob.display_name} (you)`);
  await expect(personRow(panel, 'carol').locator('.jp-collab-place')).toHaveText(
    'notes.py'
  );
  await expect(panel.locator('.jp-collab-person')).toHaveCount(3);
  // the status bar and the panel count the same: people in bob's current document, and
  // on the server
  await expect(bob.locator('.jp-collab-status')).toHaveText(
    'connected · 2 here · 3 on server'
  );
  await expect(panel.locator('.jp-collab-headcount')).toHaveText('2 here · 3 on server');
  await screenshots(testInfo, 'presence', { alice, bob, carol });

  // 4. bob clicks alice: his notebook selects her cell
  await b.cells.nth(0).locator('.jp-InputPrompt').click();
  await expect(b.cells.nth(0)).toHaveClass(/jp-mod-active/);
  await personRow(panel, 'alice').locator('.jp-collab-place').click();
  await expect(b.cells.nth(1)).toHaveClass(/jp-mod-active/);

  // 5. bob clicks carol: notes.py opens for him, and carol sees bob in her file
  await personRow(panel, 'carol').locator('.jp-collab-place').click();
  await expect(editorIn(bob).file).toContainText('print');
  await expect(carol.locator('.jp-collab-status')).toHaveText(
    'connected · 2 here · 3 on server'
  );

  // 6. carol stops (the test server counts 4 s without edits or moves as idle): she is
  //    shown idle; when she types again she is active again
  await expect(personRow(panel, 'carol')).toHaveAttribute('data-idle', 'true', {
    timeout: 30_000
  });
  await expect(personRow(panel, 'carol').locator('.jp-collab-person-idle')).toHaveText(
    'idle'
  );
  await editorIn(carol).file.click();
  await carol.keyboard.press('Control+End');
  await carol.keyboard.type('# back');
  await expect(personRow(panel, 'carol')).toHaveAttribute('data-idle', 'false');

  // 7. carol closes her tab: she leaves everyone's panel
  await carol.context().close();
  await expect(personRow(panel, 'carol')).toHaveCount(0);
  await expect(panel.locator('.jp-collab-person')).toHaveCount(2);

  await alice.context().close();
  await bob.context().close();
});
