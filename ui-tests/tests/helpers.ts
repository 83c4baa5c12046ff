/**
 * Shared helpers for the jupyter-collab browser tests.
 *
 * Identities come from ../users.json (also read by jupyter_server_test_config.py):
 * every user has its own token; a browser context that opened a page with
 * `?token=<token>` keeps that user through the server's login cookie.
 */
import * as fs from 'fs';
import * as path from 'path';
import {
  APIRequestContext,
  Browser,
  expect,
  Locator,
  Page,
  TestInfo
} from '@playwright/test';

export interface IUserSpec {
  token: string;
  name: string;
  display_name: string;
  initials: string;
  color: string;
}

export const USERS: Record<string, IUserSpec> = JSON.parse(
  fs.readFileSync(path.resolve(__dirname, '..', 'users.json'), 'utf-8')
);

export type UserName = 'alice' | 'bob' | 'carol';

/** `Authorization` header of a user (token requests skip the XSRF check). */
export function authHeaders(user: UserName): Record<string, string> {
  return { Authorization: `token ${USERS[user].token}` };
}

/** `a/b c.ipynb` -> `a/b%20c.ipynb` (segments encoded, slashes kept). */
export function encodePath(p: string): string {
  return p.split('/').map(encodeURIComponent).join('/');
}

/** A notebook with a kernelspec (no "Select Kernel" dialog) and the given code cells. */
export function notebook(...sources: string[]): Record<string, unknown> {
  return {
    cells: sources.map((source, i) => ({
      id: `cell-${i}`,
      cell_type: 'code',
      metadata: {},
      source,
      outputs: [],
      execution_count: null
    })),
    metadata: {
      kernelspec: {
        name: 'python3',
        display_name: 'Python 3 (ipykernel)',
        language: 'python'
      },
      language_info: { name: 'python' }
    },
    nbformat: 4,
    nbformat_minor: 5
  };
}

/**
 * Write a file through the contents API as `user`: a string is saved as a text
 * file, an object as a notebook (JSON).
 */
export async function putFile(
  request: APIRequestContext,
  user: UserName,
  filePath: string,
  content: string | Record<string, unknown>
): Promise<void> {
  const data =
    typeof content === 'string'
      ? { type: 'file', format: 'text', content }
      : { type: 'notebook', format: 'json', content };
  const response = await request.put(`/api/contents/${encodePath(filePath)}`, {
    headers: authHeaders(user),
    data
  });
  expect(
    response.ok(),
    `PUT /api/contents/${filePath}: ${response.status()} ${await response.text()}`
  ).toBeTruthy();
}

/**
 * Read a file through the contents API: text for files, the JSON for notebooks.
 *
 * jupyter_server's `atomic_writing` rewrites a file in place, so a read that lands while
 * the room saves it finds an empty notebook ("Unreadable Notebook", 400): such a read
 * is tried again, at most 20 times, the next attempt starting when the last one answered.
 */
export async function getFile(
  request: APIRequestContext,
  user: UserName,
  filePath: string
): Promise<any> {
  for (let attempt = 1; ; attempt++) {
    const response = await request.get(
      `/api/contents/${encodePath(filePath)}?content=1`,
      { headers: authHeaders(user) }
    );
    const midSave =
      response.status() === 400 && (await response.text()).includes('Unreadable Notebook');
    if (midSave && attempt < 20) {
      continue;
    }
    expect(
      response.ok(),
      `GET /api/contents/${filePath}: ${response.status()}`
    ).toBeTruthy();
    return (await response.json()).content;
  }
}

/** Wait until JupyterLab has started (its splash screen is gone). */
export async function waitForLab(page: Page): Promise<void> {
  await page.locator('#jupyterlab-splash').waitFor({ state: 'detached' });
}

export interface IOpenOptions {
  /** Workspace name; default: the user's name. Use distinct names to isolate tests. */
  workspace?: string;
  /**
   * The server, e.g. `http://127.0.0.1:18900` (a test's own server, see server.ts);
   * default: the `baseURL` of playwright.config.js.
   */
  baseURL?: string;
}

/**
 * Open `filePath` in JupyterLab as `user`, in a new browser context (own
 * cookies and storage) and the user's own workspace:
 * `/lab/workspaces/<workspace>/tree/<filePath>?token=<user token>`.
 * Resolves once JupyterLab has started. Close with `page.context().close()`.
 */
export async function openAs(
  browser: Browser,
  user: UserName,
  filePath = '',
  options: IOpenOptions = {}
): Promise<Page> {
  const context = await browser.newContext(
    options.baseURL === undefined ? {} : { baseURL: options.baseURL }
  );
  const page = await context.newPage();
  const workspace = options.workspace ?? user;
  const tree = filePath ? `/tree/${encodePath(filePath)}` : '';
  await page.goto(
    `/lab/workspaces/${encodeURIComponent(workspace)}${tree}?token=${
      USERS[user].token
    }`
  );
  await waitForLab(page);
  return page;
}

/** Reload a page and wait for JupyterLab again (identity from the login cookie). */
export async function reloadLab(page: Page): Promise<void> {
  await page.reload();
  await waitForLab(page);
}

/**
 * `fetch` from inside the page, as JupyterLab itself would: the login cookie
 * authenticates, and non-GET requests carry the `_xsrf` cookie as `X-XSRFToken`
 * (set `xsrf: false` to leave it out).
 */
export async function fetchInPage(
  page: Page,
  method: string,
  url: string,
  body?: unknown,
  options: { xsrf?: boolean } = {}
): Promise<{ status: number; json: any; text: string }> {
  const result = await page.evaluate(
    async ({ method, url, body, xsrf }) => {
      const headers: Record<string, string> = {};
      if (body !== undefined) {
        headers['Content-Type'] = 'application/json';
      }
      // the same lookup as @jupyterlab/services' ServerConnection
      const match = document.cookie.match('\\b_xsrf=([^;]*)\\b');
      if (xsrf && match) {
        headers['X-XSRFToken'] = match[1];
      }
      const response = await fetch(url, {
        method,
        headers,
        credentials: 'same-origin',
        body: body === undefined ? undefined : JSON.stringify(body)
      });
      return { status: response.status, text: await response.text() };
    },
    { method, url, body, xsrf: options.xsrf ?? true }
  );
  let json: any = undefined;
  try {
    json = JSON.parse(result.text);
  } catch {
    // not JSON (an HTML error page): leave json undefined
  }
  return { ...result, json };
}

/** Locators for the documents shown in a page (only the visible tab counts). */
export interface IEditorLocators {
  /** The visible notebook panel. */
  notebook: Locator;
  /** Its cells. */
  cells: Locator;
  /** The CodeMirror content of the notebook's cell `index`. */
  cell(index: number): Locator;
  /** The visible file editor's CodeMirror content. */
  file: Locator;
  /** The visible document (notebook or file editor). */
  document: Locator;
  /** Remote carets (src/cursors/remote-cursors.ts) in the visible document. */
  remoteCarets: Locator;
  /** The name label of `name`'s remote caret in the visible document. */
  remoteLabel(name: string | RegExp): Locator;
  /** `name`'s remote caret (its element holds the user's colour) in the visible document. */
  remoteCaret(name: string | RegExp): Locator;
}

export function editorIn(page: Page): IEditorLocators {
  const notebook = page.locator('.jp-NotebookPanel:not(.lm-mod-hidden)');
  const fileWidget = page.locator(
    '.jp-MainAreaWidget:not(.lm-mod-hidden):has(> .jp-FileEditor)'
  );
  const document = page.locator(
    '.jp-NotebookPanel:not(.lm-mod-hidden), .jp-MainAreaWidget:not(.lm-mod-hidden):has(> .jp-FileEditor)'
  );
  const cells = notebook.locator('.jp-Notebook .jp-Cell');
  return {
    notebook,
    cells,
    cell: (index: number) => cells.nth(index).locator('.cm-content'),
    file: fileWidget.locator('.jp-FileEditor .cm-content'),
    document,
    remoteCarets: document.locator('.jp-CollabRemoteCursor'),
    remoteLabel: (name: string | RegExp) =>
      document.locator('.jp-CollabRemoteCursor-label', { hasText: name }),
    remoteCaret: (name: string | RegExp) =>
      document.locator('.jp-CollabRemoteCursor').filter({
        // `has` is resolved inside each caret
        has: page.locator('.jp-CollabRemoteCursor-label', { hasText: name })
      })
  };
}

/**
 * The text of a CodeMirror editor (`.cm-content`), lines joined with `\n`,
 * without widgets: remote carets carry their user's name as DOM text inside
 * the content, so `toHaveText` on `.cm-content` would include it.
 */
export async function editorText(editor: Locator): Promise<string> {
  return editor.evaluate(el => {
    const copy = el.cloneNode(true) as HTMLElement;
    copy
      .querySelectorAll('[contenteditable="false"], .jp-CollabRemoteCursor')
      .forEach(n => n.remove());
    const lines = Array.from(copy.querySelectorAll('.cm-line'));
    return lines.length
      ? lines.map(l => l.textContent ?? '').join('\n')
      : copy.textContent ?? '';
  });
}

/** Wait until an editor's text (see `editorText`) equals `expected`. */
export async function expectEditorText(
  editor: Locator,
  expected: string | RegExp,
  timeout?: number
): Promise<void> {
  const poll = expect.poll(() => editorText(editor), {
    timeout,
    message: `editor text of ${editor}`
  });
  if (typeof expected === 'string') {
    await poll.toBe(expected);
  } else {
    await poll.toMatch(expected);
  }
}

/** Screenshots of each user's view, saved as test artifacts (`<step>-<user>.png`). */
export async function screenshots(
  testInfo: TestInfo,
  step: string,
  views: Record<string, Page>
): Promise<void> {
  for (const [who, page] of Object.entries(views)) {
    const file = testInfo.outputPath(`${step}-${who}.png`);
    await page.screenshot({ path: file });
    await testInfo.attach(`${step}-${who}`, {
      path: file,
      contentType: 'image/png'
    });
  }
}

/**
 * Alice and Bob, each in a context and workspace of their own (`<user>-<tag>`), on `path`
 * (of the server at `options.baseURL`, default: the configuration's).
 */
export async function openPair(
  browser: Browser,
  path: string,
  tag: string,
  options: Pick<IOpenOptions, 'baseURL'> = {}
): Promise<{
  alice: Page;
  bob: Page;
  a: IEditorLocators;
  b: IEditorLocators;
}> {
  const alice = await openAs(browser, 'alice', path, {
    ...options,
    workspace: `alice-${tag}`
  });
  const bob = await openAs(browser, 'bob', path, {
    ...options,
    workspace: `bob-${tag}`
  });
  return { alice, bob, a: editorIn(alice), b: editorIn(bob) };
}

/** Click into `editor`, go to its end, optionally start a new line, and type `text`. */
export async function typeAtEnd(
  page: Page,
  editor: Locator,
  text: string,
  { newLine = false }: { newLine?: boolean } = {}
): Promise<void> {
  await editor.click();
  await page.keyboard.press('Control+End');
  if (newLine) {
    await page.keyboard.press('Enter');
  }
  await page.keyboard.type(text);
}

/**
 * Wait until the server has handled everything `from` sent on its current document's
 * socket so far: `from` puts a unique mark in its awareness (sent on the same socket,
 * after whatever it sent before), and we wait until `to` receives it from the server.
 * The event to wait on when a test checks that something was NOT sent (nothing refused,
 * nothing changed). Both pages need `--LabApp.expose_app_in_browser=True`.
 */
export async function flushThrough(from: Page, to: Page): Promise<void> {
  const mark = `barrier-${Date.now()}-${Math.random()}`;
  await from.evaluate(value => {
    const model = (window as any).jupyterapp.shell.currentWidget.context.model.sharedModel;
    model.awareness.setLocalStateField('barrier', value);
  }, mark);
  await expect
    .poll(() =>
      to.evaluate(value => {
        const model = (window as any).jupyterapp.shell.currentWidget.context.model.sharedModel;
        return [...model.awareness.getStates().values()].some(
          (state: any) => state?.barrier === value
        );
      }, mark)
    )
    .toBe(true);
}

/** alice (an owner) makes a share link on `path` with `role`; its join URL. */
export async function shareLink(
  request: APIRequestContext,
  path: string,
  role: 'viewer' | 'commenter' | 'editor'
): Promise<string> {
  const response = await request.post(`/api/collab/links/${encodePath(path)}`, {
    headers: authHeaders('alice'),
    data: { role, expires_in_seconds: 3600 }
  });
  expect(response.ok(), `POST links: ${response.status()}`).toBeTruthy();
  return ((await response.json()) as { url: string }).url;
}

/**
 * A guest with no account: a new browser context opens the share link `url`, gives
 * `name` and joins; resolves once JupyterLab has started in the shared document.
 */
export async function joinThroughLink(
  browser: Browser,
  baseURL: string | undefined,
  url: string,
  name: string
): Promise<Page> {
  const context = await browser.newContext(baseURL === undefined ? {} : { baseURL });
  const page = await context.newPage();
  await page.goto(url);
  await page.locator('#name').fill(name);
  await page.getByRole('button', { name: 'Join' }).click();
  await page.waitForURL(/\/lab\/tree\//);
  await waitForLab(page);
  return page;
}
