/**
 * Roles felt in the UI (issue 9): readers never send an update in normal use, and
 * whatever a role or a lock forbids is disabled before it is sent.
 *
 * 1. bob (viewer) and carol (commenter) have their cursor in cell 2 while alice (owner)
 *    edits it, runs it, moves it, locks it and saves: both stay connected, in the same
 *    cell, with no reload notice, and the server logs no refused edit.
 * 2. bob is offered no Cut, Delete, Merge or Move (menus, toolbars), and D,D or X in
 *    command mode do nothing.
 * 3. carol, an editor, cannot delete, cut or move a locked cell from the menus, the
 *    toolbar or shortcuts; a change forced through the shared model is refused with a
 *    short notice naming the cell by its number.
 *
 * Each test starts its own server (tests/server.ts) to read its log.
 */
import * as fs from 'fs';
import * as path from 'path';

import { APIRequestContext, expect, Page, test } from '@playwright/test';

import {
  authHeaders,
  editorIn,
  expectEditorText,
  flushThrough,
  notebook,
  openAs,
  putFile,
  screenshots,
  UserName
} from './helpers';
import { configPort, LabServer } from './server';

let server: LabServer;
let api: APIRequestContext;

test.setTimeout(240_000);

test.beforeEach(async ({ playwright }) => {
  server = new LabServer({
    port: configPort() + 17,
    // the active cell and the shared model are read through window.jupyterapp
    args: ['--LabApp.expose_app_in_browser=True']
  });
  await server.start();
  api = await playwright.request.newContext({ baseURL: server.baseURL });
});

test.afterEach(async ({}, testInfo) => {
  await api?.dispose();
  if (server) {
    server.keepLogs(testInfo); // each start's output, next to the screenshots
    await server.dispose();
  }
});

/** alice (the owner) gives `user` `role` on `nb`. */
async function grant(nb: string, user: UserName, role: string): Promise<void> {
  const response = await api.put(`/api/collab/members/${nb}`, {
    headers: authHeaders('alice'),
    data: { principal: user, role }
  });
  expect(response.ok(), await response.text()).toBeTruthy();
}

/** The server's refusals so far (rooms.py logs "refused an edit by <user>"). */
function refusals(): string[] {
  return server.log.split('\n').filter(line => line.includes('refused an edit'));
}

/** The id of the active cell of the notebook shown in `page`. */
function activeCellId(page: Page): Promise<string | null> {
  return page.evaluate(() => {
    const widget = (window as any).jupyterapp.shell.currentWidget;
    return widget?.content?.activeCell?.model.id ?? null;
  });
}

/** The collab status bar item: `<state> · …`. */
function status(page: Page) {
  return page.locator('.jp-collab-status');
}

/** A notification whose text matches. */
function toast(page: Page, text: string | RegExp) {
  return page.locator('.Toastify__toast', { hasText: text });
}

/** Mark the visible notebook panel, to tell later whether it was reopened. */
async function markPanel(page: Page): Promise<void> {
  await page
    .locator('.jp-NotebookPanel:not(.lm-mod-hidden)')
    .evaluate(node => node.setAttribute('data-readers-test', 'original'));
}

/** Select cell `index` (click its prompt) and leave edit mode. */
async function selectCell(page: Page, index: number): Promise<void> {
  await editorIn(page).cells.nth(index).locator('.jp-InputPrompt').click();
  await page.keyboard.press('Escape');
}

/** Right-click cell `index` and return the context menu's item labelled `label`. */
async function contextItem(page: Page, index: number, label: RegExp) {
  await editorIn(page).cells.nth(index).locator('.jp-InputPrompt').click({ button: 'right' });
  return page.locator('.lm-Menu-item', {
    has: page.locator('.lm-Menu-itemLabel', { hasText: label })
  });
}

/** The item of the main menu `menu` labelled `label`. */
async function menuItem(page: Page, menu: string, label: RegExp) {
  await page.locator('.lm-MenuBar-itemLabel', { hasText: new RegExp(`^${menu}$`) }).click();
  return page.locator('.lm-Menu-item', {
    has: page.locator('.lm-Menu-itemLabel', { hasText: label })
  });
}

/** The notebook toolbar button for `command`. */
function toolbarButton(page: Page, command: string) {
  return page.locator(
    `.jp-NotebookPanel:not(.lm-mod-hidden) .jp-NotebookPanel-toolbar [data-command="${command}"]`
  );
}

test('a viewer and a commenter in the cell the owner edits, runs, moves, locks and saves stay connected and in place', async ({
  browser
}, testInfo) => {
  const nb = 'readers.ipynb';
  await putFile(api, 'alice', nb, notebook('a = 1', 'print(2)', 'c = 3'));
  await grant(nb, 'bob', 'viewer');
  await grant(nb, 'carol', 'commenter');
  const baseURL = server.baseURL;
  const alice = await openAs(browser, 'alice', nb, { baseURL, workspace: 'alice-r' });
  const bob = await openAs(browser, 'bob', nb, { baseURL, workspace: 'bob-r' });
  const carol = await openAs(browser, 'carol', nb, { baseURL, workspace: 'carol-r' });
  const a = editorIn(alice);
  for (const page of [bob, carol]) {
    await expectEditorText(editorIn(page).cell(1), 'print(2)');
    await expect(status(page)).toHaveText(/^connected/);
    await markPanel(page);
    // the cursor in cell 2
    await editorIn(page).cell(1).click();
    await page.keyboard.press('End');
    expect(await activeCellId(page)).toBe('cell-1');
  }

  // 1. alice edits cell 2
  await a.cell(1).click();
  await alice.keyboard.press('End');
  await alice.keyboard.type('; print(22)');
  for (const page of [bob, carol]) {
    await expectEditorText(editorIn(page).cell(1), 'print(2); print(22)');
    expect(await activeCellId(page)).toBe('cell-1');
  }

  // 2. she runs it: its outputs change for everyone
  await alice.keyboard.press('Shift+Enter');
  for (const page of [alice, bob, carol]) {
    await expect(editorIn(page).cells.nth(1).locator('.jp-OutputArea-output')).toHaveText(
      '2\n22\n',
      { timeout: 60_000 }
    );
  }
  for (const page of [bob, carol]) {
    expect(await activeCellId(page)).toBe('cell-1');
  }
  await screenshots(testInfo, '1-run', { alice, bob, carol });

  // 3. she moves it down: it is now cell 3 for everyone
  await alice.evaluate(async () => {
    const app = (window as any).jupyterapp;
    app.shell.currentWidget.content.activeCellIndex = 1;
    await app.commands.execute('notebook:move-cell-down');
  });
  for (const page of [bob, carol]) {
    await expectEditorText(editorIn(page).cell(2), 'print(2); print(22)');
    expect(await activeCellId(page)).toBe('cell-1');
  }

  // 4. she locks it
  await a.cells.nth(2).locator('.jp-InputPrompt').click({ button: 'right' });
  await alice.locator('.lm-Menu-itemLabel', { hasText: /^Lock Cell$/ }).click();
  for (const page of [bob, carol]) {
    await expect(editorIn(page).cells.nth(2).locator('.jp-collab-cell-lock')).toBeVisible();
  }

  // 5. she saves
  await alice.keyboard.press('Control+s');
  // wait until the file on disk has the edit (the save went through the room)
  await expect
    .poll(
      () => {
        const file = path.join(server.root, nb);
        return fs.existsSync(file) ? fs.readFileSync(file, 'utf-8') : '';
      },
      { timeout: 30_000 }
    )
    .toContain('print(22)');
  // whatever bob and carol sent after the save has been judged by the server
  await flushThrough(bob, alice);
  await flushThrough(carol, alice);
  await screenshots(testInfo, '2-saved', { alice, bob, carol });

  // bob and carol: still connected, same panel (no reload), same cell, no notice
  for (const page of [bob, carol]) {
    await expect(status(page)).toHaveText(/^connected/);
    await expect(
      page.locator('.jp-NotebookPanel[data-readers-test="original"]')
    ).toHaveCount(1);
    expect(await activeCellId(page)).toBe('cell-1');
    await expect(toast(page, /not applied|Reloading|cannot edit/)).toHaveCount(0);
  }
  expect(refusals()).toEqual([]);

  await Promise.all([alice, bob, carol].map(page => page.context().close()));
});

test('a viewer is offered no Cut, Delete, Merge or Move, and D,D or X in command mode do nothing', async ({
  browser
}, testInfo) => {
  const nb = 'viewer-commands.ipynb';
  await putFile(api, 'alice', nb, notebook('a = 1', 'b = 2', 'c = 3'));
  await grant(nb, 'bob', 'viewer');
  const baseURL = server.baseURL;
  const alice = await openAs(browser, 'alice', nb, { baseURL, workspace: 'alice-v' });
  const bob = await openAs(browser, 'bob', nb, { baseURL, workspace: 'bob-v' });
  await expectEditorText(editorIn(bob).cell(1), 'b = 2');
  await expect(status(bob)).toHaveText(/^connected/);

  await selectCell(bob, 1);
  // the context menu
  for (const label of [/^Cut Cell$/, /^Delete Cell$/, /^Merge Selected Cells$/]) {
    await expect((await contextItem(bob, 1, label)).first()).toHaveClass(/lm-mod-disabled/);
    await bob.keyboard.press('Escape');
  }
  // the Edit menu
  for (const label of [
    /^Cut Cell$/,
    /^Delete Cell$/,
    /^Merge Selected Cells$/,
    /^Move Cell Up$/,
    /^Move Cell Down$/,
    /^Paste Cell Below$/
  ]) {
    await expect((await menuItem(bob, 'Edit', label)).first()).toHaveClass(/lm-mod-disabled/);
    await bob.keyboard.press('Escape');
  }
  // the toolbar
  await expect(toolbarButton(bob, 'notebook:cut-cell')).toHaveAttribute('aria-disabled', 'true');
  await expect(toolbarButton(bob, 'notebook:insert-cell-below')).toHaveAttribute(
    'aria-disabled',
    'true'
  );
  await screenshots(testInfo, 'viewer-menus', { bob });

  // shortcuts in command mode
  await selectCell(bob, 1);
  await bob.keyboard.press('d');
  await bob.keyboard.press('d');
  await bob.keyboard.press('x');
  await bob.keyboard.press('m');
  await bob.keyboard.press('b');
  await flushThrough(bob, alice); // anything the keys sent has reached the server
  await expect(editorIn(bob).cells).toHaveCount(3);
  await expect(editorIn(alice).cells).toHaveCount(3);
  await expect(status(bob)).toHaveText(/^connected/);
  expect(await activeCellId(bob)).toBe('cell-1');
  expect(refusals()).toEqual([]);

  await Promise.all([alice, bob].map(page => page.context().close()));
});

test('an editor cannot delete, cut or move a locked cell, and a forced change is refused naming the cell', async ({
  browser
}, testInfo) => {
  const nb = 'locked-commands.ipynb';
  await putFile(api, 'alice', nb, notebook('a = 1', 'locked = 2', 'c = 3'));
  const baseURL = server.baseURL;
  const alice = await openAs(browser, 'alice', nb, { baseURL, workspace: 'alice-l' });
  const carol = await openAs(browser, 'carol', nb, { baseURL, workspace: 'carol-l' });
  await expectEditorText(editorIn(carol).cell(1), 'locked = 2');

  await editorIn(alice).cells.nth(1).locator('.jp-InputPrompt').click({ button: 'right' });
  await alice.locator('.lm-Menu-itemLabel', { hasText: /^Lock Cell$/ }).click();
  await expect(editorIn(carol).cells.nth(1).locator('.jp-collab-cell-lock')).toBeVisible();

  await selectCell(carol, 1);
  for (const label of [/^Cut Cell$/, /^Delete Cell$/, /^Merge Selected Cells$/]) {
    await expect((await contextItem(carol, 1, label)).first()).toHaveClass(/lm-mod-disabled/);
    await carol.keyboard.press('Escape');
  }
  for (const label of [/^Delete Cell$/, /^Move Cell Up$/, /^Move Cell Down$/]) {
    await expect((await menuItem(carol, 'Edit', label)).first()).toHaveClass(
      /lm-mod-disabled/
    );
    await carol.keyboard.press('Escape');
  }
  await expect(toolbarButton(carol, 'notebook:cut-cell')).toHaveAttribute(
    'aria-disabled',
    'true'
  );
  // adding a cell next to it is fine
  await expect(toolbarButton(carol, 'notebook:insert-cell-below')).not.toHaveAttribute(
    'aria-disabled',
    'true'
  );
  // the cell below is free: its menu items are enabled
  await selectCell(carol, 2);
  await expect((await contextItem(carol, 2, /^Delete Cell$/)).first()).not.toHaveClass(
    /lm-mod-disabled/
  );
  await carol.keyboard.press('Escape');
  await screenshots(testInfo, 'editor-locked-menus', { carol });

  // shortcuts on the locked cell
  await selectCell(carol, 1);
  await carol.keyboard.press('d');
  await carol.keyboard.press('d');
  await carol.keyboard.press('x');
  await flushThrough(carol, alice); // anything the keys sent has reached the server
  await expect(editorIn(alice).cells).toHaveCount(3);
  await expect(editorIn(carol).cells).toHaveCount(3);
  expect(refusals()).toEqual([]);

  // forced through the shared model: refused, with a short notice naming cell 2
  await carol.evaluate(() => {
    const widget = (window as any).jupyterapp.shell.currentWidget;
    widget.context.model.sharedModel.deleteCell(1);
  });
  const notice = toast(carol, /^Cell 2 is locked by an owner/);
  await expect(notice).toBeVisible();
  const text = (await notice.innerText()).trim();
  expect(text).toContain('Cell 2 is locked by an owner: it cannot be deleted.');
  expect(text).not.toMatch(/cell-1/);
  expect(text.length).toBeLessThanOrEqual(140);
  await screenshots(testInfo, 'forced-refusal', { carol });
  // the document comes back with the cell
  await expect(editorIn(carol).cells).toHaveCount(3);
  await expectEditorText(editorIn(carol).cell(1), 'locked = 2');
  expect(refusals()).toHaveLength(1);

  await Promise.all([alice, carol].map(page => page.context().close()));
});
