/**
 * Comments in the browser (issue 11), on the default set-up (the owner logs in with a
 * token, guests come through share links): an owner and a commenter guest comment on a
 * cell, reply, mention each other (the notification shows), resolve and reopen, with the
 * cell badge following; a viewer guest reads but has nothing to write with, and the
 * server refuses the request they forge; Markdown payloads meant to run script stay inert.
 */
import { expect, Locator, Page, test } from '@playwright/test';

import {
  encodePath,
  expectEditorText,
  editorIn,
  fetchInPage,
  joinThroughLink,
  notebook,
  openAs,
  putFile,
  screenshots,
  shareLink,
  waitForLab
} from './helpers';

/** The Comments panel of `page`, opened. */
async function commentsPanel(page: Page) {
  const panel = page.locator('#jp-collab-comments');
  if (!(await panel.isVisible())) {
    await page.locator('.jp-SideBar [data-id="jp-collab-comments"]').click();
  }
  await expect(panel).toBeVisible();
  return panel;
}

/** Right-click cell `index` of the visible notebook and pick `label`. */
async function fromContextMenu(page: Page, index: number, label: string) {
  const cell = page.locator('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell');
  await cell.nth(index).locator('.jp-InputPrompt').click({ button: 'right' });
  await page.locator('.lm-Menu-itemLabel', { hasText: new RegExp(`^${label}$`) }).click();
}

function badge(page: Page, index: number) {
  return page
    .locator('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell')
    .nth(index)
    .locator('.jp-collab-cell-comments');
}

function toast(page: Page, text: string) {
  return page.locator('.Toastify__toast', { hasText: text });
}

test('an owner and a commenter guest comment on a cell, reply, mention each other, resolve and reopen', async ({
  browser,
  request
}, testInfo) => {
  const nb = 'comments.ipynb';
  await putFile(request, 'alice', nb, notebook('x = 1\nprint(x)', 'y = 2'));
  const alice = await openAs(browser, 'alice', nb, { workspace: 'alice-comments' });
  await expectEditorText(editorIn(alice).cell(0), 'x = 1\nprint(x)');
  const url = await shareLink(request, nb, 'commenter');
  const guest = await joinThroughLink(browser, testInfo.project.use.baseURL, url, 'Zoe');
  await expectEditorText(editorIn(guest).cell(0), 'x = 1\nprint(x)');

  // 1. the guest comments on the first cell from its context menu, mentioning alice
  await fromContextMenu(guest, 0, 'Comment on Cell');
  const gPanel = await commentsPanel(guest);
  const compose = gPanel.locator('.jp-collab-comments-compose');
  await expect(compose.locator('.jp-collab-comment-quote')).toContainText('x = 1');
  // @mention through the completer: it offers alice (in the document) by her name
  const input = compose.locator('.jp-collab-comment-input');
  await input.fill('Why does this print **1**? ');
  await input.pressSequentially('@Al');
  await compose.locator('.jp-collab-mention-item', { hasText: 'Alice Liddell' }).click();
  await expect(input).toHaveValue('Why does this print **1**? @alice ');
  await compose.locator('.jp-collab-comment-send').click();
  const gThread = gPanel.locator('.jp-collab-thread');
  await expect(gThread).toHaveCount(1);
  await expect(gThread.locator('.jp-collab-message-body strong')).toHaveText('1');

  // alice is told, and the cell shows one open thread
  await expect(toast(alice, 'mentioned you')).toBeVisible();
  await expect(badge(alice, 0)).toHaveText(/1/);
  await expect(badge(alice, 1)).toHaveCount(0);
  await badge(alice, 0).click();
  const aPanel = await commentsPanel(alice);
  const aThread = aPanel.locator('.jp-collab-thread');
  await expect(aThread.locator('.jp-collab-message-body')).toContainText('Why does this print');
  // the guest shows by the name they gave, and is mentioned by it
  await expect(aThread.locator('.jp-collab-message-author').first()).toHaveText('Zoe (guest)');
  await screenshots(testInfo, '1-commented', { alice, guest });

  // 2. alice replies, mentioning the guest: the guest is told
  const reply = aThread.locator('.jp-collab-reply-input');
  await reply.fill('Because x is 1, ');
  await reply.pressSequentially('@zo');
  await expect(aThread.locator('.jp-collab-mention-item')).toHaveText(['Zoe (guest) @Zoe']);
  await reply.press('Enter');
  await expect(reply).toHaveValue('Because x is 1, @Zoe ');
  await aThread.locator('.jp-collab-reply-send').click();
  await expect(gThread.locator('.jp-collab-message')).toHaveCount(2);
  await expect(toast(guest, 'mentioned you')).toBeVisible();

  // 3. the guest resolves it: the badge goes, alice finds it under Resolved, reopens it
  await gThread.locator('.jp-collab-thread-toggle', { hasText: 'Resolve' }).click();
  await expect(badge(alice, 0)).toHaveCount(0);
  await aPanel.locator('.jp-collab-comments-filter[data-filter="resolved"]').click();
  await expect(aPanel.locator('.jp-collab-thread')).toHaveCount(1);
  await aPanel.locator('.jp-collab-thread-toggle', { hasText: 'Reopen' }).click();
  await expect(badge(alice, 0)).toHaveText(/1/);
  await expect(badge(guest, 0)).toHaveText(/1/);
  await screenshots(testInfo, '3-reopened', { alice, guest });

  // 4. the guest replies while alice is away; opening the notebook again brings first
  // messages, and the Comments tab counts the thread as unread until she reads it
  const lab = alice.url();
  await alice.goto('about:blank');
  await gThread.locator('.jp-collab-reply-input').fill('Still prints 1 here');
  await gThread.locator('.jp-collab-reply-send').click();
  await expect(gThread.locator('.jp-collab-message')).toHaveCount(3);
  await expect(gThread.locator('.jp-collab-reply-input')).toHaveValue('');
  await alice.goto(lab);
  await waitForLab(alice);
  const tab = alice.locator('.jp-SideBar [data-id="jp-collab-comments"]');
  await expect(tab).toHaveAttribute('data-unread', '1');
  const again = await commentsPanel(alice);
  const thread = again.locator('.jp-collab-thread');
  await expect(thread).toHaveClass(/jp-mod-unread/);
  await expect(thread.locator('.jp-collab-message')).toHaveCount(1);
  await thread.locator('.jp-collab-thread-more', { hasText: 'Show 2 more messages' }).click();
  await expect(thread.locator('.jp-collab-message')).toHaveCount(3);
  await expect(thread.locator('.jp-collab-message-body').nth(1)).toContainText('Because x is 1');
  await expect(thread.locator('.jp-collab-message-body').nth(2)).toContainText('Still prints');
  await expect(tab).not.toHaveAttribute('data-unread', /.*/);
  await expect(thread).not.toHaveClass(/jp-mod-unread/);

  await alice.context().close();
  await guest.context().close();
});

test('a viewer reads comments but cannot write them, and script in a comment stays inert', async ({
  browser,
  request
}, testInfo) => {
  const nb = 'comments-xss.ipynb';
  await putFile(request, 'alice', nb, notebook('a = 1'));
  const alice = await openAs(browser, 'alice', nb, { workspace: 'alice-comments-xss' });
  await expectEditorText(editorIn(alice).cell(0), 'a = 1');
  const payloads = [
    '<script>window.__xss = 1</script>plain',
    '<img src=x onerror="window.__xss = 2">',
    '[click me](javascript:window.__xss=3)'
  ];
  // alice posts them over REST, as any script could
  const anchor = { kind: 'cell', cell_id: 'cell-0' };
  for (const body of payloads) {
    const response = await fetchInPage(
      alice,
      'POST',
      `/api/collab/comments/${encodePath(nb)}`,
      { type: 'comment.create', anchor, body }
    );
    expect(response.status, response.text).toBe(200);
  }
  const url = await shareLink(request, nb, 'viewer');
  const viewer = await joinThroughLink(browser, testInfo.project.use.baseURL, url, 'Vic');
  const panel = await commentsPanel(viewer);
  await expect(panel.locator('.jp-collab-thread')).toHaveCount(3);
  await expect(panel.locator('.jp-collab-message-body')).toHaveCount(3);

  // nothing ran, and nothing that could run is in the page
  await expect(panel.locator('.jp-collab-message-body').first()).toContainText('plain');
  expect(await panel.locator('script').count()).toBe(0);
  expect(await panel.locator('[onerror]').count()).toBe(0);
  const link = panel.locator('.jp-collab-message-body a', { hasText: 'click me' });
  if (await link.count()) {
    expect((await link.getAttribute('href')) ?? '').not.toMatch(/^javascript:/i);
    await link.click({ modifiers: [] }).catch(() => undefined);
  }
  expect(await viewer.evaluate(() => (window as any).__xss)).toBeUndefined();
  expect(await alice.evaluate(() => (window as any).__xss)).toBeUndefined();

  // the viewer has no compose box, no reply box, no resolve, and no Comment on Cell
  await expect(panel.locator('.jp-collab-reply')).toHaveCount(0);
  await expect(panel.locator('.jp-collab-thread-toggle')).toHaveCount(0);
  const cell = viewer.locator('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell');
  await cell.nth(0).locator('.jp-InputPrompt').click({ button: 'right' });
  const item = viewer.locator('.lm-Menu-item', { hasText: 'Comment on Cell' });
  await expect(item).toHaveAttribute('aria-disabled', 'true');
  await viewer.keyboard.press('Escape');

  // a forged request from the viewer's page is refused, and changes nothing
  const forged = await fetchInPage(viewer, 'POST', `/api/collab/comments/${encodePath(nb)}`, {
    type: 'comment.create',
    anchor,
    body: 'forged'
  });
  expect(forged.status).toBe(403);
  const listed = await fetchInPage(alice, 'GET', `/api/collab/comments/${encodePath(nb)}`);
  expect(listed.json.threads).toHaveLength(3);
  await expect(panel.locator('.jp-collab-thread')).toHaveCount(3);
  await screenshots(testInfo, 'viewer', { alice, viewer });

  await alice.context().close();
  await viewer.context().close();
});

test('a commenter guest comments on a range and suggests a change: the highlight follows edits above it, and the owner accepts and undoes it', async ({
  browser,
  request
}, testInfo) => {
  const nb = 'comment-ranges.ipynb';
  await putFile(request, 'alice', nb, notebook('x = 1\nprint(x)'));
  const alice = await openAs(browser, 'alice', nb, { workspace: 'alice-ranges' });
  const a = editorIn(alice);
  await expectEditorText(a.cell(0), 'x = 1\nprint(x)');
  const url = await shareLink(request, nb, 'commenter');
  const guest = await joinThroughLink(browser, testInfo.project.use.baseURL, url, 'Zoe');
  const g = editorIn(guest);
  await expectEditorText(g.cell(0), 'x = 1\nprint(x)');

  // 1. the guest selects "print(x)" on the second line and comments on it with a suggestion
  await g.cell(0).locator('.cm-line').nth(1).click();
  await guest.keyboard.press('End');
  await guest.keyboard.press('Shift+Home');
  await g.cell(0).locator('.cm-line').nth(1).click({ button: 'right' });
  await guest.locator('.lm-Menu-itemLabel', { hasText: /^Comment on Selection$/ }).click();
  const gPanel = await commentsPanel(guest);
  const compose = gPanel.locator('.jp-collab-comments-compose');
  await expect(compose.locator('.jp-collab-comment-quote')).toHaveText('print(x)');
  await compose.locator('.jp-collab-comment-input').fill('Print twice as much?');
  await compose.locator('.jp-collab-comment-suggestion').fill('print(x * 2)');
  await compose.locator('.jp-collab-comment-send').click();
  // shown as an inline diff: only what changes is marked
  await expect(gPanel.locator('.jp-collab-suggestion-diff')).toHaveText('print(x * 2)');
  await expect(gPanel.locator('.jp-collab-suggestion-diff ins')).toHaveText(' * 2');
  await expect(gPanel.locator('.jp-collab-suggestion-diff del')).toHaveCount(0);

  // 2. alice sees the highlight on exactly that text; typing above it does not move it off
  // CodeMirror may split one mark into several spans (syntax tokens): read them together
  const highlighted = (cell: Locator) =>
    expect.poll(async () => (await cell.locator('.jp-collab-comment-range').allInnerTexts()).join(''));
  const highlight = a.cell(0).locator('.jp-collab-comment-range');
  await highlighted(a.cell(0)).toBe('print(x)');
  await a.cell(0).locator('.cm-line').first().click();
  await alice.keyboard.press('Home');
  await alice.keyboard.type('# set up\n');
  await expectEditorText(g.cell(0), '# set up\nx = 1\nprint(x)');
  await highlighted(a.cell(0)).toBe('print(x)');
  await highlighted(g.cell(0)).toBe('print(x)');
  await screenshots(testInfo, 'range', { alice, guest });

  // 3. alice accepts the suggestion: everyone's cell changes; then she undoes it
  await highlight.first().click();
  const aPanel = await commentsPanel(alice);
  const thread = aPanel.locator('.jp-collab-thread', { hasText: 'Print twice' });
  await thread.locator('.jp-collab-suggestion-accept').click();
  await expectEditorText(g.cell(0), '# set up\nx = 1\nprint(x * 2)');
  await expectEditorText(a.cell(0), '# set up\nx = 1\nprint(x * 2)');
  await aPanel.locator('.jp-collab-comments-filter[data-filter="resolved"]').click();
  await aPanel.locator('.jp-collab-thread', { hasText: 'Print twice' }).locator('.jp-collab-suggestion-undo').click();
  await expectEditorText(g.cell(0), '# set up\nx = 1\nprint(x)');
  await expectEditorText(a.cell(0), '# set up\nx = 1\nprint(x)');

  // the guest, a commenter, has no Accept button
  await gPanel.locator('.jp-collab-comments-filter[data-filter="open"]').click();
  await expect(gPanel.locator('.jp-collab-thread', { hasText: 'Print twice' })).toHaveCount(1);
  await expect(gPanel.locator('.jp-collab-suggestion-accept')).toHaveCount(0);

  await alice.context().close();
  await guest.context().close();
});
