/**
 * Teaching (issue 12), with the default server of the browser tests (token login, alice
 * owns the server, bob and carol are editors who may run code): bob and carol type in one
 * cell at once and it is marked; while carol's cell runs everyone's toolbar says so, and
 * when it fails everyone sees who ran it; the teacher's class dashboard shows both
 * students and marks carol stuck; the teacher follows bob, then presents the notebook to
 * both, and bob leaves while carol stays.
 */
import { expect, Page, test } from '@playwright/test';

import {
  authHeaders,
  editorIn,
  notebook,
  openAs,
  putFile,
  screenshots,
  USERS
} from './helpers';

/** Run a command through the command palette, as people do. */
async function palette(page: Page, label: string): Promise<void> {
  await page.keyboard.press('Control+Shift+C');
  const modal = page.locator('#modal-command-palette');
  await expect(modal.locator('.lm-CommandPalette-input')).toBeVisible();
  await page.keyboard.type(label);
  await modal.locator('.lm-CommandPalette-item', { hasText: label }).first().click();
}

/** The 0-based index of the active cell of the visible notebook. */
function activeIndex(page: Page): Promise<number> {
  return editorIn(page).cells.evaluateAll(cells =>
    cells.findIndex(cell => cell.classList.contains('jp-mod-active'))
  );
}

/** Make a cell active in command mode, by its prompt. */
async function selectCell(page: Page, index: number): Promise<void> {
  await editorIn(page).cells.nth(index).locator('.jp-InputPrompt').click();
}

/**
 * A cell that runs until the test writes `class1/release` (the kernel's working folder is the
 * notebook's), then fails: the run lasts exactly as long as the test looks at it.
 */
const RUN_UNTIL_RELEASED = [
  'import pathlib, time',
  'for _ in range(1200):  # at most a minute',
  "    if pathlib.Path('release').exists():",
  '        break',
  '    time.sleep(0.05)',
  'print(undefined_name)'
].join('\n');

test('dashboard, stuck, run by, follow and present with a teacher and two students', async ({
  browser,
  request
}, testInfo) => {
  test.setTimeout(240_000);
  const nb = 'class1/lesson.ipynb';
  const folder = await request.put('/api/contents/class1', {
    headers: authHeaders('alice'),
    data: { type: 'directory' }
  });
  expect(folder.ok(), await folder.text()).toBeTruthy();
  await putFile(request, 'alice', nb, notebook('x = 1', RUN_UNTIL_RELEASED, 'z = 3'));

  const alice = await openAs(browser, 'alice', nb, { workspace: 'alice-teaching' });
  const bob = await openAs(browser, 'bob', nb, { workspace: 'bob-teaching' });
  const carol = await openAs(browser, 'carol', nb, { workspace: 'carol-teaching' });
  for (const page of [alice, bob, carol]) {
    await expect(editorIn(page).cells).toHaveCount(3);
  }

  // 1. bob types; carol runs the second cell, which fails
  const b = editorIn(bob);
  await b.cell(0).click();
  await bob.keyboard.press('End');
  await bob.keyboard.type(' + 1');
  // carol types in the same cell a moment later: a concurrent edit, marked on the cell
  const c = editorIn(carol);
  await c.cell(0).click();
  await carol.keyboard.press('End');
  await carol.keyboard.type(' + 2');
  const marker = editorIn(alice).cells.nth(0).locator('.jp-collab-concurrent-badge');
  await expect(marker).toHaveAttribute('data-collab-concurrent-count', '1');
  await expect(marker).toHaveAttribute('title', /^Two people changed this cell at once 1 time/);
  await expect(editorIn(alice).cells.nth(1).locator('.jp-collab-concurrent-badge')).toHaveCount(0);
  await expect(
    alice.locator('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-collab-doc-activity')
  ).toContainText('1 concurrent edit');
  await expect(carol.getByText('Python 3 (ipykernel) | Idle')).toBeVisible({ timeout: 90_000 });
  await selectCell(carol, 1);
  await carol.keyboard.press('Shift+Enter');
  // while it runs, everyone's toolbar says who runs which cell
  const busy = alice.locator('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-collab-busy');
  await expect(busy).toHaveText(`${USERS.carol.display_name} is running [2]`);
  await expect(
    editorIn(bob).cells.nth(1).locator('.jp-collab-run[data-collab-run-status="running"]')
  ).toHaveText(`running… (${USERS.carol.display_name})`);
  await putFile(request, 'alice', 'class1/release', '');
  await expect(editorIn(carol).cells.nth(1).locator('.jp-OutputArea')).toContainText(
    'NameError',
    { timeout: 60_000 }
  );

  // 2. everyone sees who ran it, and how it ended
  await expect(busy).toHaveAttribute('data-collab-busy', 'false');
  const runLine = editorIn(alice).cells.nth(1).locator('.jp-collab-run');
  await expect(runLine).toHaveAttribute('data-collab-run-status', 'error');
  await expect(runLine).toHaveAttribute('data-collab-run-by', 'carol');
  await expect(runLine).toContainText(`NameError · run by ${USERS.carol.display_name}`);
  await expect(editorIn(bob).cells.nth(1).locator('.jp-collab-run')).toContainText(
    `run by ${USERS.carol.display_name}`
  );
  await expect(editorIn(carol).cells.nth(1).locator('.jp-collab-run')).toContainText(
    'run by you'
  );
  await expect(editorIn(alice).cells.nth(0).locator('.jp-collab-run')).toHaveCount(0);

  // 3. the teacher's class dashboard: both students, carol stuck on her error
  await selectCell(alice, 0);
  await palette(alice, 'Class Dashboard');
  const board = alice.locator('.jp-collab-dashboard');
  await expect(board).toBeVisible();
  // (earlier tests left rows of their own: people who worked elsewhere in the last 10 min)
  const rowOf = (user: string) =>
    board.locator(`tr[data-collab-user="${user}"][data-collab-path="${nb}"]`);
  const carolRow = rowOf('carol');
  const bobRow = rowOf('bob');
  await expect(carolRow).toHaveClass(/jp-collab-stuck/);
  await expect(carolRow.locator('.jp-collab-stuck-reason')).toHaveText('error: NameError');
  await expect(carolRow).toContainText('0 ok · 1 error');
  await expect(bobRow).toBeVisible();
  await expect(bobRow.locator('.jp-collab-stuck-reason')).not.toContainText('error');
  await expect(board.locator('tr[data-collab-user="alice"]')).toHaveCount(0);
  await board.locator('[data-collab-stuck-only]').check();
  await expect(carolRow).toBeVisible();
  await expect(board.locator('tr.jp-collab-dashboard-row:not(.jp-collab-stuck)')).toHaveCount(0);
  await board.locator('[data-collab-folder]').fill('class2/');
  await expect(board.locator('tr.jp-collab-dashboard-row')).toHaveCount(0);
  await board.locator('[data-collab-folder]').fill('class1/');
  await board.locator('[data-collab-stuck-only]').uncheck();
  await expect(bobRow).toBeVisible();
  // the Collaborators panel shows the teacher each student's typing
  await alice.locator('.jp-SideBar li[data-id="jp-collab-people"]').click();
  await expect(
    alice.locator('.jp-collab-person[data-username="bob"] .jp-collab-spark')
  ).toBeVisible();
  await screenshots(testInfo, 'dashboard', { alice, bob, carol });

  // 4. the teacher follows bob: his cell becomes hers; her own key press stops it
  await bobRow.locator('[data-collab-follow]').click();
  const followBar = alice.locator('[data-collab-follow-bar]');
  await expect(followBar).toContainText(`Following ${USERS.bob.display_name}`);
  await selectCell(bob, 2);
  await expect.poll(() => activeIndex(alice)).toBe(2);
  await selectCell(bob, 1);
  await expect.poll(() => activeIndex(alice)).toBe(1);
  await alice.keyboard.press('Escape');
  await expect(followBar).toBeHidden();
  await selectCell(bob, 0);
  await bob.keyboard.press('Escape');
  // (no longer following: bob's moves no longer move her)
  await expect.poll(() => activeIndex(alice)).toBe(1);

  // 5. the teacher presents the notebook: both students follow her
  await palette(alice, 'Present to Everyone in It');
  await expect(alice.locator('[data-collab-presenting-bar]')).toBeVisible();
  for (const student of [bob, carol]) {
    await expect(student.locator('[data-collab-follow-bar]')).toContainText(
      `${USERS.alice.display_name} is presenting`
    );
  }
  await selectCell(alice, 2);
  await expect.poll(() => activeIndex(bob)).toBe(2);
  await expect.poll(() => activeIndex(carol)).toBe(2);
  await screenshots(testInfo, 'presenting', { alice, bob, carol });

  // bob leaves; carol keeps following
  await bob.locator('[data-collab-stop-follow]').click();
  await expect(bob.locator('[data-collab-follow-bar]')).toBeHidden();
  await selectCell(alice, 0);
  await expect.poll(() => activeIndex(carol)).toBe(0);
  expect(await activeIndex(bob)).toBe(2);

  // the teacher stops: carol's view is hers again
  await alice.locator('[data-collab-stop-presenting]').click();
  await expect(carol.locator('[data-collab-follow-bar]')).toBeHidden();
  await expect(alice.locator('[data-collab-presenting-bar]')).toBeHidden();

  for (const page of [alice, bob, carol]) {
    await page.context().close();
  }
});
