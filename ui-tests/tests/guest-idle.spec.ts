/**
 * A guest on a plain `jupyter lab` (token login, the way everyone runs it), issue 9:
 * the owner shares a notebook by link, a guest joins and then sits there, as students do.
 * For COLLAB_IDLE_SECONDS (default 300: five minutes) their page must log no console
 * error and get no 4xx answer: everything their JupyterLab asks for by itself is either
 * allowed or answered with an empty, honest answer (no kernels, no workspace, no news).
 * Their page config carries no server token, and nothing they are served does either.
 */
import { expect, Page, test } from '@playwright/test';

import { notebook, screenshots, waitForLab } from './helpers';
import { configPort, LabServer } from './server';

const IDLE_SECONDS = Number(process.env.COLLAB_IDLE_SECONDS || '300');
const TOKEN = `plain${Date.now().toString(16)}${Math.random().toString(16).slice(2)}`;

let server: LabServer;

test.beforeAll(async () => {
  server = new LabServer({ port: configPort() + 11, plainToken: TOKEN });
  await server.start();
});

test.afterAll(async () => {
  await server.dispose();
});

/** Everything a person would notice: console errors, failed requests, crashes. */
function recordProblems(page: Page, problems: string[]): void {
  page.on('console', message => {
    if (message.type() === 'error') {
      problems.push(`console.error: ${message.text()}`);
    }
  });
  page.on('pageerror', error => problems.push(`pageerror: ${error.message}`));
  page.on('response', response => {
    if (response.status() >= 400) {
      problems.push(`HTTP ${response.status()} ${response.request().method()} ${response.url()}`);
    }
  });
}

test('an idle guest on a plain jupyter lab sees no error for five minutes', async ({
  browser
}, testInfo) => {
  test.setTimeout((IDLE_SECONDS + 180) * 1000);
  const owner = { Authorization: `token ${TOKEN}` };
  const api = await browser.newContext({ baseURL: server.baseURL });
  const put = await api.request.put('/api/contents/class.ipynb', {
    headers: owner,
    data: { type: 'notebook', format: 'json', content: notebook('print("hello class")') }
  });
  expect(put.ok()).toBeTruthy();
  const created = await api.request.post('/api/collab/links/class.ipynb', {
    headers: owner,
    data: { role: 'viewer', expires_in_seconds: 3600 }
  });
  expect(created.ok(), await created.text()).toBeTruthy();
  const link = (await created.json()) as { url: string };

  const ownerPage = await (await browser.newContext({ baseURL: server.baseURL })).newPage();
  await ownerPage.goto(`/lab/tree/class.ipynb?token=${TOKEN}`);
  await waitForLab(ownerPage);

  const guestContext = await browser.newContext({ baseURL: server.baseURL });
  const guest = await guestContext.newPage();
  const problems: string[] = [];
  const served: string[] = [];
  recordProblems(guest, problems);
  guest.on('response', async response => {
    try {
      served.push(await response.text());
    } catch {
      // a redirect or a websocket upgrade has no body to read
    }
  });
  await guest.goto(link.url);
  await guest.locator('#name').fill('Zoe');
  await guest.getByRole('button', { name: 'Join' }).click();
  await guest.waitForURL(/\/lab\/tree\/class\.ipynb/);
  await waitForLab(guest);
  const cell = guest.locator('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell .cm-content');
  await expect(cell.first()).toContainText('hello class');

  // the guest does nothing; JupyterLab polls, reconnects and saves state by itself. The
  // idle time is the subject here: watched every 5 s, and the first problem ends it early
  const idleSince = Date.now();
  await expect
    .poll(() => problems.length > 0 || Date.now() - idleSince >= IDLE_SECONDS * 1000, {
      timeout: (IDLE_SECONDS + 60) * 1000,
      intervals: [5000]
    })
    .toBe(true);

  await screenshots(testInfo, 'guest-idle', { guest, owner: ownerPage });
  await testInfo.attach('guest-problems.txt', {
    body: problems.join('\n') || '(none)',
    contentType: 'text/plain'
  });
  expect(problems, problems.join('\n')).toEqual([]);
  expect(served.filter(body => body.includes(TOKEN))).toEqual([]);
  const config = await guest.evaluate(() =>
    JSON.parse(document.getElementById('jupyter-config-data')!.textContent!)
  );
  expect(config.token).toBe('');
  // no news toast: it asks to change a server-wide setting a guest may not write
  await expect(guest.getByText('official Jupyter news')).toHaveCount(0);
});
