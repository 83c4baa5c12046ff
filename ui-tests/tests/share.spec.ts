/**
 * Share links in the browser (issue 4): the owner shares a notebook by link; a guest
 * with no account opens the link, gives a name and lands in the notebook with the
 * link's role. As a viewer they follow the owner live and cannot type; raised to editor
 * (PATCH) they type without reloading, except in a cell the owner locked; once the link
 * is revoked they are disconnected and Jupyter's REST API refuses them. Their file
 * browser only ever shows the shared notebook.
 */
import {
  APIRequestContext,
  Browser,
  expect,
  Locator,
  Page,
  test,
  TestInfo
} from '@playwright/test';

import {
  authHeaders,
  editorIn,
  editorText,
  encodePath,
  expectEditorText,
  fetchInPage,
  getFile,
  notebook,
  openAs,
  putFile,
  screenshots,
  USERS,
  waitForLab
} from './helpers';

interface ILink {
  id: string;
  url: string;
  role: string;
  active: boolean;
}

/** alice (the owner) calls the share-links API on `path`. */
async function links(
  request: APIRequestContext,
  method: 'post' | 'patch' | 'delete',
  path: string,
  { id, data }: { id?: string; data?: unknown } = {}
): Promise<ILink | null> {
  const query = id === undefined ? '' : `?id=${encodeURIComponent(id)}`;
  const response = await request.fetch(`/api/collab/links/${encodePath(path)}${query}`, {
    method: method.toUpperCase(),
    headers: authHeaders('alice'),
    data
  });
  expect(
    response.ok(),
    `${method.toUpperCase()} /api/collab/links/${path}: ${response.status()} ${await response.text()}`
  ).toBeTruthy();
  return response.status() === 204 ? null : ((await response.json()) as ILink);
}

/**
 * A guest: a new browser context (no token, no cookie) that opens the share link,
 * types `name` into the join page and joins. Resolves once JupyterLab has started.
 */
async function joinAsGuest(
  browser: Browser,
  testInfo: TestInfo,
  url: string,
  name: string,
  problems: string[]
): Promise<Page> {
  const context = await browser.newContext({ baseURL: testInfo.project.use.baseURL });
  const page = await context.newPage();
  recordProblems(page, problems);
  await page.goto(url);
  await expect(page.locator('h1')).toContainText('Join');
  await page.locator('#name').fill(name);
  await page.getByRole('button', { name: 'Join' }).click();
  await page.waitForURL(/\/lab\/tree\//);
  await waitForLab(page);
  // the server has a token, as a plain `jupyter lab` does: it is the owner's, never theirs
  const serverToken = process.env.COLLAB_UI_SERVER_TOKEN!;
  expect(serverToken.length).toBeGreaterThan(8);
  expect(await page.content()).not.toContain(serverToken);
  const config = await page.evaluate(() =>
    JSON.parse(document.getElementById('jupyter-config-data')!.textContent!)
  );
  expect(config.token).toBe('');
  return page;
}

/** Collect what a real user could run into: console errors and warnings, failed requests. */
function recordProblems(page: Page, problems: string[]): void {
  page.on('console', msg => {
    if (msg.type() === 'error' || msg.type() === 'warning') {
      problems.push(`console.${msg.type()}: ${msg.text()}`);
    }
  });
  page.on('pageerror', error => problems.push(`pageerror: ${error.message}`));
  page.on('response', response => {
    if (response.status() >= 400) {
      problems.push(
        `HTTP ${response.status()} ${response.request().method()} ${response.url()}`
      );
    }
  });
  page.on('dialog', dialog => problems.push(`browser dialog: ${dialog.message()}`));
}

/** Note the JupyterLab dialogs open in `page` (title: body) under `step`. */
async function noteDialogs(page: Page, step: string, problems: string[]): Promise<void> {
  for (const dialog of await page.locator('.jp-Dialog-content').all()) {
    const text = (await dialog.innerText()).replace(/\s+/g, ' ').trim();
    problems.push(`JupyterLab dialog at ${step}: ${text}`);
  }
}

/** The read-only notice of the visible document. */
function notice(page: Page) {
  return page.locator('.jp-MainAreaWidget:not(.lm-mod-hidden) .jp-collab-readonly-notice');
}

/** Right-click cell `index` of the visible notebook and pick `label` (as locks.spec). */
async function fromContextMenu(page: Page, index: number, label: string) {
  const cell = page.locator('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell');
  await cell.nth(index).locator('.jp-InputPrompt').click({ button: 'right' });
  await page.locator('.lm-Menu-itemLabel', { hasText: new RegExp(`^${label}$`) }).click();
}

/** Click into `editor`, go to the end of its line and type `text`. */
async function typeAtLineEnd(page: Page, editor: Locator, text: string): Promise<void> {
  await editor.click();
  await page.keyboard.press('End');
  await page.keyboard.type(text);
}

const problemsOf = new Map<string, string[]>();

test.afterEach(async ({}, testInfo) => {
  const problems = problemsOf.get(testInfo.testId) ?? [];
  await testInfo.attach('guest-problems.txt', {
    body: problems.join('\n') || '(none)',
    contentType: 'text/plain'
  });
  console.log(`guest's console errors and failed requests:\n${problems.join('\n') || '(none)'}`);
});

test('a guest joins through a share link, follows as a viewer, edits once raised, and is cut off on revoke', async ({
  browser,
  request
}, testInfo) => {
  const nb = 'share.ipynb';
  await putFile(request, 'alice', nb, notebook('shared = 1', 'free = 2'));
  await putFile(request, 'alice', 'private.py', 'secret = 42\n');

  const alice = await openAs(browser, 'alice', nb, { workspace: 'alice-share' });
  const a = editorIn(alice);
  await expectEditorText(a.cell(0), 'shared = 1');

  // what a real guest would hit: console errors and failed requests of their page,
  // attached to the report (and printed) at the end, pass or fail
  const guestProblems: string[] = [];
  problemsOf.set(testInfo.testId, guestProblems);

  // 1. alice creates a viewer link; the guest opens it, says "Zoe" and joins
  const link = (await links(request, 'post', nb, {
    data: { role: 'viewer', expires_in_seconds: 3600 }
  }))!;
  expect(link.url).toMatch(/^\/collab\/join\//);
  expect(link.role).toBe('viewer');
  const guest = await joinAsGuest(browser, testInfo, link.url, 'Zoe', guestProblems);
  const g = editorIn(guest);
  expect(new URL(guest.url()).pathname).toBe(`/lab/tree/${nb}`);
  await expectEditorText(g.cell(0), 'shared = 1');
  await screenshots(testInfo, '1-joined', { alice, guest });
  await noteDialogs(guest, '1-joined', guestProblems);

  // 2. as a viewer: a read-only notice, and typing changes nothing
  await expect(notice(guest)).toBeVisible();
  await expect(notice(guest)).toContainText('You are a viewer of this document');
  await typeAtLineEnd(guest, g.cell(0), ' + 1');
  expect(await editorText(g.cell(0))).toBe('shared = 1');

  // the file browser shows the shared notebook only, not alice's private.py
  const fileBrowser = guest.locator('.jp-FileBrowser');
  if (!(await fileBrowser.isVisible())) {
    await guest.locator('.jp-SideBar li[data-id="filebrowser"]').click();
  }
  await expect(fileBrowser.locator('.jp-DirListing-item', { hasText: nb })).toBeVisible();
  await expect(fileBrowser.locator('.jp-DirListing-item')).toHaveCount(1);
  await expect(
    fileBrowser.locator('.jp-DirListing-item', { hasText: 'private.py' })
  ).toHaveCount(0);

  // 3. the guest follows alice live: her text and her caret with her name
  await typeAtLineEnd(alice, a.cell(0), ' + 2');
  await expectEditorText(g.cell(0), 'shared = 1 + 2');
  await expect(g.remoteLabel(USERS.alice.display_name)).toHaveCount(1);

  // alice's Collaborators panel lists "Zoe (guest)" as a viewer
  await alice.locator('.jp-SideBar li[data-id="jp-collab-people"]').click();
  const zoe = alice.locator('.jp-collab-person', {
    has: alice.locator('.jp-collab-person-name', { hasText: 'Zoe (guest)' })
  });
  await expect(zoe).toHaveCount(1);
  await expect(zoe).toHaveAttribute('data-username', /^guest:/);
  await expect(zoe.locator('.jp-collab-role')).toHaveText('viewer');
  await screenshots(testInfo, '2-viewer', { alice, guest });
  await noteDialogs(guest, '2-viewer', guestProblems);

  // 4. alice raises the link to editor: the guest types without reloading
  const raised = (await links(request, 'patch', nb, {
    id: link.id,
    data: { role: 'editor' }
  }))!;
  expect(raised.role).toBe('editor');
  await expect(notice(guest)).toBeHidden();
  await typeAtLineEnd(guest, g.cell(0), ' + 3');
  await expectEditorText(a.cell(0), 'shared = 1 + 2 + 3');
  await expect(zoe.locator('.jp-collab-role')).toHaveText('editor');
  await expect(a.remoteLabel('Zoe (guest)')).toHaveCount(1);
  await screenshots(testInfo, '3-editor', { alice, guest });
  await noteDialogs(guest, '3-editor', guestProblems);

  // 5. alice locks cell 0: the guest cannot change it, but can change cell 1
  await fromContextMenu(alice, 0, 'Lock Cell');
  await expect(g.cells.nth(0).locator('.jp-collab-cell-lock')).toBeVisible();
  await typeAtLineEnd(guest, g.cell(0), ' + 4');
  expect(await editorText(g.cell(0))).toBe('shared = 1 + 2 + 3');
  await typeAtLineEnd(guest, g.cell(1), ' + 5');
  await expectEditorText(a.cell(1), 'free = 2 + 5');
  await expectEditorText(a.cell(0), 'shared = 1 + 2 + 3');
  await screenshots(testInfo, '4-locked', { alice, guest });
  await noteDialogs(guest, '4-locked', guestProblems);

  // 6. alice revokes the link: the guest is disconnected and locked out of the REST API
  const status = guest.locator('.jp-collab-status');
  await expect(status).toHaveText(/^connected/);
  await links(request, 'delete', nb, { id: link.id });
  // what the guest notices: a notification that their access ended, and the notebook
  // closes (no "Forbidden" dialog from trying to reopen it)
  await expect(
    guest.locator('.Toastify__toast', { hasText: 'Your access to share.ipynb ended' })
  ).toBeVisible();
  await expect(guest.locator('.jp-NotebookPanel')).toHaveCount(0);
  await expect(guest.locator('.jp-Dialog')).toHaveCount(0);
  await screenshots(testInfo, '5-revoked', { alice, guest });
  await noteDialogs(guest, '5-revoked', guestProblems);
  // Jupyter's REST API no longer knows them (the guest cookie names a revoked link)
  const contents = await fetchInPage(guest, 'GET', `/api/contents/${encodePath(nb)}`);
  expect(contents.status).toBe(403);

  // alice's next edit does not reach the guest (it reached the server: it is on disk)
  await typeAtLineEnd(alice, a.cell(1), ' # after revoke');
  await expect
    .poll(async () => (await getFile(request, 'alice', nb)).cells[1].source, {
      timeout: 30_000
    })
    .toBe('free = 2 + 5 # after revoke');
  await expect(guest.locator('.cm-content', { hasText: 'after revoke' })).toHaveCount(0);
  await screenshots(testInfo, '6-after', { alice, guest });
  await noteDialogs(guest, '6-after', guestProblems);

  await alice.context().close();
  await guest.context().close();
});
