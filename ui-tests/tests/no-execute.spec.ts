/**
 * People who may not run code (issue 9): an editor on a server where editors may not
 * run code, and a guest viewer on a plain `jupyter lab`.
 *
 * The editor presses Shift+Enter in a cell the owner ran: no "Select Kernel" dialog,
 * and the outputs and execution count stay, for the owner and in the file (JupyterLab
 * used to clear them for everyone); Clear Cell Output does nothing either. The Run
 * button is disabled and its tooltip says why; the kernel's name and status are
 * replaced by a line that is true. The guest sees no Save, Run or kernel items and no
 * "No Kernel | Initializing"; once the owner revokes the link, their document closes
 * and no Launcher (with icons they may no longer load) takes its place.
 */
import { Browser, expect, Page, test } from '@playwright/test';

import {
  authHeaders,
  editorIn,
  encodePath,
  flushThrough,
  notebook,
  openAs,
  screenshots,
  waitForLab
} from './helpers';
import { configPort, LabServer } from './server';

/** The visible notebook's toolbar item named `name` (`data-jp-item-name`). */
function toolbarItem(page: Page, name: string) {
  return page.locator(
    `.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Toolbar-item[data-jp-item-name="${name}"]`
  );
}

/** The outputs of the visible notebook's cell `index`. */
function outputsOf(page: Page, index: number) {
  return editorIn(page).cells.nth(index).locator('.jp-OutputArea-output');
}

/** The execution count prompt of the visible notebook's cell `index`. */
function promptOf(page: Page, index: number) {
  return editorIn(page).cells.nth(index).locator('.jp-InputArea-prompt');
}

/** Everything JupyterLab shows as a dialog in `page`, as text. */
async function dialogs(page: Page): Promise<string[]> {
  return Promise.all(
    (await page.locator('.jp-Dialog').all()).map(async d =>
      (await d.innerText()).replace(/\s+/g, ' ')
    )
  );
}

test.describe('an editor who may not run code', () => {
  let server: LabServer;

  test.beforeAll(async () => {
    server = new LabServer({
      port: configPort() + 13,
      // flushThrough reads the shared model through window.jupyterapp
      args: ['--CollabApp.editors_can_execute=False', '--LabApp.expose_app_in_browser=True']
    });
    await server.start();
  });

  test.afterAll(async () => {
    await server.dispose();
  });

  test('presses Shift+Enter in a cell the owner ran: no dialog, the outputs stay for everyone', async ({
    browser
  }, testInfo) => {
    const api = (await browser.newContext({ baseURL: server.baseURL })).request;
    const nb = 'run.ipynb';
    const put = await api.put(`/api/contents/${encodePath(nb)}`, {
      headers: authHeaders('alice'),
      data: {
        type: 'notebook',
        format: 'json',
        content: notebook('print("ran by alice")', 'x = 2')
      }
    });
    expect(put.ok(), await put.text()).toBeTruthy();

    // alice (owner) runs the first cell: her kernel starts, the output appears
    const alice = await openAs(browser, 'alice', nb, {
      baseURL: server.baseURL,
      workspace: 'alice-noexec'
    });
    const a = editorIn(alice);
    await expect(a.cells).toHaveCount(2);
    await expect(toolbarItem(alice, 'run')).toBeVisible();
    // a run while the kernel is still starting is dropped with a notice: wait for it
    await expect(alice.getByText('Python 3 (ipykernel) | Idle')).toBeVisible({
      timeout: 60_000
    });
    await a.cells.nth(0).locator('.jp-InputPrompt').click();
    await alice.keyboard.press('Shift+Enter');
    await expect(outputsOf(alice, 0)).toContainText('ran by alice', { timeout: 60_000 });
    await expect(promptOf(alice, 0)).toHaveText('[1]:');

    // bob (editor, may not run code) sees her output and a disabled Run with the reason
    const bob = await openAs(browser, 'bob', nb, {
      baseURL: server.baseURL,
      workspace: 'bob-noexec'
    });
    const b = editorIn(bob);
    await expect(outputsOf(bob, 0)).toContainText('ran by alice');
    await expect(promptOf(bob, 0)).toHaveText('[1]:');
    const refusedRun = toolbarItem(bob, 'collabRunRefused').locator('button');
    await expect(refusedRun).toBeVisible();
    await expect(refusedRun).toBeDisabled();
    await expect(refusedRun).toHaveAttribute(
      'title',
      "You can't run code here: the owner has not allowed editors to run code."
    );
    await expect(toolbarItem(bob, 'run')).toBeHidden();
    await expect(toolbarItem(bob, 'kernelName')).toBeHidden();
    await expect(toolbarItem(bob, 'collabNoKernel')).toHaveText(
      'Code runs only for people allowed to run it'
    );
    await expect(bob.getByText(/No Kernel|Initializing/).filter({ visible: true })).toHaveCount(0);
    // his Save stays: the server saves, his Save asks it to
    await expect(toolbarItem(bob, 'save')).toBeVisible();
    await screenshots(testInfo, '1-before', { alice, bob });

    // bob presses Shift+Enter in the cell, then tries Clear Cell Output
    await b.cell(0).click();
    await bob.keyboard.press('Shift+Enter');
    await expect(bob.locator('.Toastify__toast', { hasText: "You can't run code here" })).toBeVisible();
    await b.cells.nth(0).locator('.jp-InputPrompt').click({ button: 'right' });
    await bob.locator('.lm-Menu-itemLabel', { hasText: /^Clear Cell Output$/ }).click();
    await flushThrough(bob, alice); // anything bob's page sent has reached the server
    expect(await dialogs(bob)).toEqual([]);
    await screenshots(testInfo, '2-after-shift-enter', { alice, bob });

    for (const page of [bob, alice]) {
      await expect(outputsOf(page, 0)).toContainText('ran by alice');
      await expect(promptOf(page, 0)).toHaveText('[1]:');
    }
    // and in the file, once the room saved (3 s after the last change)
    await expect
      .poll(
        async () => {
          const response = await api.get(`/api/contents/${encodePath(nb)}?content=1`, {
            headers: authHeaders('alice')
          });
          const cell = (await response.json()).content.cells[0];
          return { count: cell.execution_count, text: cell.outputs[0]?.text };
        },
        { timeout: 20_000 }
      )
      .toEqual({ count: 1, text: 'ran by alice\n' });

    // the Kernel and Run menus are not offered to him
    await expect(bob.locator('.lm-MenuBar-item', { hasText: /^Kernel$/ })).toBeHidden();
    await expect(alice.locator('.lm-MenuBar-item', { hasText: /^Kernel$/ })).toBeVisible();
    await alice.context().close();
    await bob.context().close();
  });
});

test.describe('a guest viewer on a plain jupyter lab', () => {
  const token = `plain${Date.now().toString(16)}${Math.random().toString(16).slice(2)}`;
  let server: LabServer;

  test.beforeAll(async () => {
    server = new LabServer({ port: configPort() + 14, plainToken: token });
    await server.start();
  });

  test.afterAll(async () => {
    await server.dispose();
  });

  async function joinAsGuest(browser: Browser, url: string): Promise<Page> {
    const guest = await (await browser.newContext({ baseURL: server.baseURL })).newPage();
    await guest.goto(url);
    await guest.locator('#name').fill('Zoe');
    await guest.getByRole('button', { name: 'Join' }).click();
    await guest.waitForURL(/\/lab\/tree\/class\.ipynb/);
    await waitForLab(guest);
    return guest;
  }

  test('sees no Save, Run or kernel, and no Launcher once the link is revoked', async ({
    browser
  }, testInfo) => {
    const owner = { Authorization: `token ${token}` };
    const api = (await browser.newContext({ baseURL: server.baseURL })).request;
    const put = await api.put('/api/contents/class.ipynb', {
      headers: owner,
      data: { type: 'notebook', format: 'json', content: notebook('print("hello class")') }
    });
    expect(put.ok()).toBeTruthy();
    const created = await api.post('/api/collab/links/class.ipynb', {
      headers: owner,
      data: { role: 'viewer', expires_in_seconds: 3600 }
    });
    expect(created.ok(), await created.text()).toBeTruthy();
    const link = (await created.json()) as { id: string; url: string };

    const ownerPage = await (await browser.newContext({ baseURL: server.baseURL })).newPage();
    await ownerPage.goto(`/lab/tree/class.ipynb?token=${token}`);
    await waitForLab(ownerPage);
    await expect(toolbarItem(ownerPage, 'run')).toBeVisible();

    const guest = await joinAsGuest(browser, link.url);
    await expect(editorIn(guest).cell(0)).toContainText('hello class');
    await expect(toolbarItem(guest, 'collabRunRefused').locator('button')).toHaveAttribute(
      'title',
      /^You can't run code here: you are a viewer of this document/
    );
    for (const name of ['save', 'run', 'interrupt', 'restart', 'kernelName']) {
      await expect(toolbarItem(guest, name)).toBeHidden();
    }
    await expect(guest.getByText(/No Kernel|Initializing/).filter({ visible: true })).toHaveCount(0);
    await expect(guest.locator('.lm-MenuBar-item', { hasText: /^(Kernel|Run)$/ })).toHaveCount(2);
    await expect(guest.locator('.lm-MenuBar-item', { hasText: /^(Kernel|Run)$/ }).first()).toBeHidden();
    await expect(guest.locator('.lm-MenuBar-item', { hasText: /^(Kernel|Run)$/ }).last()).toBeHidden();
    await screenshots(testInfo, '1-guest', { guest, owner: ownerPage });

    // the owner revokes the link: the guest's notebook closes, and no Launcher opens
    const revoked = await api.delete(`/api/collab/links/class.ipynb?id=${encodeURIComponent(link.id)}`, {
      headers: owner
    });
    expect(revoked.ok(), await revoked.text()).toBeTruthy();
    await expect(editorIn(guest).notebook).toHaveCount(0, { timeout: 30_000 });
    await expect(guest.locator('.jp-collab-nothing-to-launch')).toContainText(
      'Your access to class.ipynb ended'
    );
    // the Launcher would open right after the close: let two frames render first
    await guest.evaluate(
      () => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))
    );
    await expect(guest.locator('.jp-Launcher')).toHaveCount(0);
    const broken = await guest.evaluate(() =>
      [...document.images]
        .filter(img => img.offsetParent !== null && img.complete && img.naturalWidth === 0)
        .map(img => img.src)
    );
    expect(broken).toEqual([]);
    await screenshots(testInfo, '2-revoked', { guest, owner: ownerPage });
  });
});
