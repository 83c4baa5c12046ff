/**
 * People in a class (issue 9): everyone in a document has a colour of their own, name
 * labels get out of the way, the owner names herself and the others see it at once,
 * and the status bar and the Collaborators panel agree on one head count. Screenshots
 * in the light and the dark theme. Then, on a plain token-login `jupyter lab` (where the
 * owner starts as "Anonymous <moon>"), the display name outlasts a reload and a server
 * restart.
 */
import { expect, Locator, Page, test } from '@playwright/test';

import {
  editorIn,
  fetchInPage,
  notebook,
  openAs,
  putFile,
  reloadLab,
  screenshots,
  USERS,
  waitForLab
} from './helpers';
import { configPort, LabServer } from './server';

/** jupyter_collab/colors.py, the order the room gives them out in. */
const PALETTE = [
  '#2977b2',
  '#f03c38',
  '#cb48ef',
  '#45a835',
  '#896423',
  '#724bea',
  '#c12f89',
  '#9587ee',
  '#c68634',
  '#3aa19e',
  '#257a2a',
  '#f25da4',
  '#3a99e2',
  '#bb4626',
  '#838a2f',
  '#4f76ec'
];

/** Open the Collaborators panel in the left sidebar and return it. */
async function openCollaborators(page: Page): Promise<Locator> {
  const panel = page.locator('#jp-collab-people');
  if (!(await panel.isVisible())) {
    await page.locator('.jp-SideBar li[data-id="jp-collab-people"]').click();
  }
  await expect(panel).toBeVisible();
  return panel;
}

/** The colour the caret element carries (`--jp-collab-user-color`). */
async function caretColor(caret: Locator): Promise<string> {
  const color = await caret.evaluate(el =>
    (el as HTMLElement).style.getPropertyValue('--jp-collab-user-color').trim()
  );
  return color.toLowerCase();
}

/** The computed opacity of a caret's name label, as the person sees it. */
async function labelOpacity(caret: Locator): Promise<number> {
  return caret
    .locator('.jp-CollabRemoteCursor-label')
    .evaluate(el => Number(getComputedStyle(el).opacity));
}

/** Settings > Theme > `theme`, then wait until the page shows it. */
async function setTheme(page: Page, theme: 'JupyterLab Light' | 'JupyterLab Dark') {
  await page.locator('.lm-MenuBar-itemLabel', { hasText: /^Settings$/ }).click();
  await page.locator('.lm-Menu-itemLabel', { hasText: /^Theme$/ }).click();
  await page.locator('.lm-Menu-itemLabel', { hasText: new RegExp(`^${theme}$`) }).click();
  await expect(page.locator('body')).toHaveAttribute(
    'data-jp-theme-light',
    theme === 'JupyterLab Light' ? 'true' : 'false'
  );
}

/** The Set My Display Name dialog is open: type `name` and confirm. */
async function answerNameDialog(page: Page, name: string): Promise<void> {
  const dialog = page.locator('.jp-Dialog');
  await expect(dialog).toContainText('Set My Display Name');
  await dialog.locator('input').fill(name);
  await dialog.locator('button', { hasText: 'Set Name' }).click();
  await expect(dialog).toHaveCount(0);
}

test('three people: colours of their own, fading labels, a name and one head count', async ({
  browser,
  request
}, testInfo) => {
  const nb = 'identity.ipynb';
  await putFile(
    request,
    'alice',
    nb,
    notebook(
      'total = 0\nfor i in range(10):\n    total += i',
      'words = ["a", "b"]\ncount = len(words)\nprint(count)',
      'import math\nradius = 2\narea = math.pi * radius ** 2'
    )
  );
  const pages: Record<'alice' | 'bob' | 'carol', Page> = {
    alice: await openAs(browser, 'alice', nb, { workspace: 'alice-identity' }),
    bob: await openAs(browser, 'bob', nb, { workspace: 'bob-identity' }),
    carol: await openAs(browser, 'carol', nb, { workspace: 'carol-identity' })
  };
  const { alice, bob, carol } = pages;
  const [a, b, c] = [editorIn(alice), editorIn(bob), editorIn(carol)];
  for (const view of [a, b, c]) {
    await expect(view.cells).toHaveCount(3);
  }

  // 1. each puts their caret at the end of a cell of their own (third line: the label
  //    goes above the caret)
  const cellOf = { alice: 0, bob: 1, carol: 2 };
  for (const [user, index] of Object.entries(cellOf)) {
    const page = pages[user as keyof typeof pages];
    await editorIn(page).cell(index).click();
    await page.keyboard.press('Control+End');
  }

  // 2. three different colours, from the palette, the same in every view
  const seen: Record<string, string> = {};
  for (const [viewer, view] of [
    ['alice', a],
    ['bob', b],
    ['carol', c]
  ] as const) {
    await expect(view.remoteCarets).toHaveCount(2);
    for (const other of ['alice', 'bob', 'carol'].filter(u => u !== viewer)) {
      const name = USERS[other].display_name;
      const color = await caretColor(view.remoteCaret(name));
      expect(PALETTE, `${other}'s colour as ${viewer} sees it`).toContain(color);
      expect(seen[other] ?? color).toBe(color);
      seen[other] = color;
    }
  }
  expect(new Set(Object.values(seen)).size).toBe(3);

  // 3. one head count, in the status bar and in the panel of everyone
  for (const page of [alice, bob, carol]) {
    await expect(page.locator('.jp-collab-status')).toHaveText(
      'connected · 3 here · 3 on server'
    );
    const panel = await openCollaborators(page);
    await expect(panel.locator('.jp-collab-headcount')).toHaveText('3 here · 3 on server');
    // the avatars carry the same colours as the carets
    for (const [user, color] of Object.entries(seen)) {
      const avatar = panel.locator(`.jp-collab-person[data-username="${user}"] .jp-collab-avatar`);
      await expect(avatar).toHaveAttribute('style', new RegExp(`background-color: ${hexToRgb(color)}`));
    }
  }

  // 4. bob types: alice sees his name; 2 s later it fades; pointing at his caret shows it
  const bobsCaret = a.remoteCaret(USERS.bob.display_name);
  await bob.keyboard.type(' # typing');
  await expect.poll(() => labelOpacity(bobsCaret)).toBeGreaterThan(0.9);
  await screenshots(testInfo, '1-light-bob-types', { alice });
  await expect.poll(() => labelOpacity(bobsCaret), { timeout: 6_000 }).toBeLessThan(0.05);
  await screenshots(testInfo, '2-light-labels-faded', { alice, bob, carol });
  const box = (await bobsCaret.boundingBox())!;
  await alice.mouse.move(box.x + 1, box.y + box.height / 2);
  await expect.poll(() => labelOpacity(bobsCaret)).toBeGreaterThan(0.9);
  await screenshots(testInfo, '3-light-hover', { alice });
  await alice.mouse.move(5, 400);
  await expect.poll(() => labelOpacity(bobsCaret), { timeout: 6_000 }).toBeLessThan(0.05);

  // 5. alice clicks her own entry in Collaborators and names herself
  const alicePanel = await openCollaborators(alice);
  const own = alicePanel.locator('.jp-collab-person[data-username="alice"] .jp-collab-person-row');
  await expect(own).toHaveAttribute('title', 'Set your display name');
  await own.click();
  await answerNameDialog(alice, 'Ms Smith');
  const me = await fetchInPage(alice, 'GET', '/api/me');
  expect(me.json.identity).toMatchObject({ display_name: 'Ms Smith', initials: 'MS' });
  await expect(alicePanel.locator('.jp-collab-person[data-username="alice"]')).toContainText(
    'Ms Smith (you)'
  );
  // the others see it at once: in the panel, at her caret, on her cell marker
  for (const [page, view] of [
    [bob, b],
    [carol, c]
  ] as const) {
    const panel = await openCollaborators(page);
    await expect(panel.locator('.jp-collab-person[data-username="alice"]')).toContainText(
      'Ms Smith'
    );
    await expect(view.remoteLabel('Ms Smith')).toHaveCount(1);
    await expect(view.remoteLabel(USERS.alice.display_name)).toHaveCount(0);
    await expect(view.cells.nth(0).locator('.jp-collab-cell-presence')).toHaveText('MS');
  }
  // ... and she keeps her colour
  expect(await caretColor(b.remoteCaret('Ms Smith'))).toBe(seen.alice);
  await a.cell(0).click();
  await alice.keyboard.press('Control+End');
  await alice.keyboard.type(' # renamed');
  await expect.poll(() => labelOpacity(b.remoteCaret('Ms Smith'))).toBeGreaterThan(0.9);
  await screenshots(testInfo, '4-light-renamed', { alice, bob, carol });

  // 6. alice reloads: JupyterLab's identity still has her name, and so do the others
  await reloadLab(alice);
  expect((await fetchInPage(alice, 'GET', '/api/me')).json.identity.display_name).toBe(
    'Ms Smith'
  );
  await expect(a.cells).toHaveCount(3);
  await a.cell(0).click();
  await alice.keyboard.press('Control+End');
  await expect(b.remoteLabel('Ms Smith')).toHaveCount(1);
  await expect(bob.locator('.jp-collab-status')).toHaveText(
    'connected · 3 here · 3 on server'
  );

  // 7. the dark theme (a server-wide setting that only owners change here: bob and carol
  //    get it by reloading): the same colours, and labels still readable
  await setTheme(alice, 'JupyterLab Dark');
  for (const [user, page] of [
    ['bob', bob],
    ['carol', carol]
  ] as const) {
    await reloadLab(page);
    await expect(page.locator('body')).toHaveAttribute('data-jp-theme-light', 'false');
    const view = editorIn(page);
    await expect(view.cells).toHaveCount(3);
    await view.cell(cellOf[user]).click();
    await page.keyboard.press('Control+End');
  }
  await expect(a.remoteCarets).toHaveCount(2);
  await bob.keyboard.type('!');
  await carol.keyboard.type('!');
  await expect.poll(() => labelOpacity(bobsCaret)).toBeGreaterThan(0.9);
  await screenshots(testInfo, '5-dark-typing', { alice, bob, carol });
  await expect.poll(() => labelOpacity(bobsCaret), { timeout: 6_000 }).toBeLessThan(0.05);
  await screenshots(testInfo, '6-dark-faded', { alice, bob, carol });
  await setTheme(alice, 'JupyterLab Light'); // the theme is a server-wide setting here

  // 8. carol leaves: two here, and bob's status bar and panel agree again
  await carol.context().close();
  await expect(bob.locator('.jp-collab-status')).toHaveText(
    'connected · 2 here · 2 on server'
  );
  await expect((await openCollaborators(bob)).locator('.jp-collab-headcount')).toHaveText(
    '2 here · 2 on server'
  );
  await alice.context().close();
  await bob.context().close();
});

function hexToRgb(hex: string): string {
  const [r, g, b] = [1, 3, 5].map(i => parseInt(hex.slice(i, i + 2), 16));
  return `rgb\\(${r}, ${g}, ${b}\\)`;
}

test.describe('on a plain jupyter lab (token login)', () => {
  const TOKEN = `name${Date.now().toString(16)}${Math.random().toString(16).slice(2)}`;
  let server: LabServer;

  test.beforeAll(async () => {
    server = new LabServer({ port: configPort() + 29, plainToken: TOKEN });
    await server.start();
  });

  test.afterAll(async () => {
    await server.dispose();
  });

  test('the owner names herself; the name outlasts a reload and a server restart', async ({
    browser
  }, testInfo) => {
    const context = await browser.newContext({ baseURL: server.baseURL });
    const owner = await context.newPage();
    await owner.goto(`/lab?token=${TOKEN}`);
    await waitForLab(owner);
    const before = (await fetchInPage(owner, 'GET', '/api/me')).json.identity;
    expect(before.display_name).toMatch(/^Anonymous /);

    // the command palette: "Set My Display Name…"
    await owner.locator('.jp-Launcher-body').click();
    await owner.keyboard.press('Control+Shift+C');
    const palette = owner.locator('#modal-command-palette');
    await expect(palette.locator('.lm-CommandPalette-input')).toBeVisible();
    await owner.keyboard.type('Set My Display Name');
    await palette
      .locator('.lm-CommandPalette-item', { hasText: 'Set My Display Name' })
      .first()
      .click();
    await answerNameDialog(owner, '  Ms   Smith ');
    const after = (await fetchInPage(owner, 'GET', '/api/me')).json.identity;
    expect(after).toMatchObject({
      username: before.username,
      name: 'Ms Smith',
      display_name: 'Ms Smith',
      initials: 'MS'
    });
    await screenshots(testInfo, '7-plain-named', { owner });

    await reloadLab(owner);
    expect((await fetchInPage(owner, 'GET', '/api/me')).json.identity.display_name).toBe(
      'Ms Smith'
    );

    await server.stop();
    await server.start();
    await reloadLab(owner);
    expect((await fetchInPage(owner, 'GET', '/api/me')).json.identity).toMatchObject({
      username: before.username,
      display_name: 'Ms Smith'
    });
    await context.close();
  });
});
