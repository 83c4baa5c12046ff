/**
 * Trust is never collaborative (security finding 5): an editor's forged cell, marked
 * `trusted` with an HTML output whose `onerror` runs a script, runs nothing in the
 * owner's page; nor do outputs an editor writes into a cell the owner had trusted.
 * The server keeps the mark out of every update (tests/handlers/test_trust.py); the
 * browser shows collaborators' outputs untrusted (src/trust/).
 *
 * The editor forges through the shared model (window.jupyterapp), as a modified client
 * would; the owner's page is only watched.
 */
import { APIRequestContext, Browser, expect, Page, test } from '@playwright/test';

import { editorIn, expectEditorText, notebook, openAs, putFile, screenshots } from './helpers';
import { configPort, LabServer } from './server';

let server: LabServer;
let api: APIRequestContext;

test.setTimeout(240_000);

test.beforeEach(async ({ playwright }) => {
  server = new LabServer({
    port: configPort() + 23,
    args: ['--LabApp.expose_app_in_browser=True'] // the editor forges through it
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

const PAYLOAD = '<img class="forged" src="x" onerror="window.__pwned = 1">';
const HTML_OUTPUT = {
  output_type: 'display_data',
  data: { 'text/html': PAYLOAD, 'text/plain': '<IPython.core.display.HTML object>' },
  metadata: {}
};

/** alice (owner) and bob (editor by default) on `nb`, each in a context of their own. */
async function ownerAndEditor(
  browser: Browser,
  nb: string
): Promise<{ alice: Page; bob: Page }> {
  await putFile(api, 'alice', nb, notebook('x = 1'));
  const options = { baseURL: server.baseURL };
  const alice = await openAs(browser, 'alice', nb, { ...options, workspace: 'alice-trust' });
  const bob = await openAs(browser, 'bob', nb, { ...options, workspace: 'bob-trust' });
  await expectEditorText(editorIn(alice).cell(0), 'x = 1');
  await expectEditorText(editorIn(bob).cell(0), 'x = 1');
  return { alice, bob };
}

/** Whether each cell of the notebook shown in `page` is trusted there. */
function trustedCells(page: Page): Promise<boolean[]> {
  return page.evaluate(() => {
    const widget = (window as any).jupyterapp.shell.currentWidget;
    return Array.from(widget.context.model.cells, (cell: any) => cell.trusted as boolean);
  });
}

/** The rendered `<img>` of the forged output in `page`, once its load has failed. */
async function renderedPayload(page: Page) {
  const img = page.locator('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-OutputArea-output img');
  await expect(img).toHaveCount(1);
  // a broken image is `complete` once its error event was dispatched: an onerror
  // handler, had it been kept, would have run by then
  await expect.poll(() => img.evaluate(el => (el as HTMLImageElement).complete)).toBe(true);
  return img;
}

async function expectNothingRan(page: Page): Promise<void> {
  const img = await renderedPayload(page);
  expect(await page.evaluate(() => (window as any).__pwned)).toBeUndefined();
  expect(await img.getAttribute('onerror')).toBeNull(); // shown as untrusted: sanitized
}

test("an editor's forged trusted cell with an onerror output runs nothing in the owner's page", async ({
  browser
}, testInfo) => {
  const { alice, bob } = await ownerAndEditor(browser, 'forged.ipynb');

  await bob.evaluate(output => {
    const widget = (window as any).jupyterapp.shell.currentWidget;
    widget.context.model.sharedModel.insertCell(1, {
      cell_type: 'code',
      id: 'forged',
      source: 'from IPython.display import HTML; HTML(...)',
      metadata: { trusted: true },
      execution_count: 1,
      outputs: [output]
    });
  }, HTML_OUTPUT);

  await expectNothingRan(alice);
  expect(await trustedCells(alice)).toEqual([false, false]);
  await screenshots(testInfo, 'forged-cell', { alice, bob });
  await alice.context().close();
  await bob.context().close();
});

test("outputs an editor writes into a cell the owner trusted run nothing in the owner's page", async ({
  browser
}, testInfo) => {
  const { alice, bob } = await ownerAndEditor(browser, 'trusted.ipynb');
  // alice trusts her notebook (File > Trust Notebook): every cell is trusted in her page
  void alice.evaluate(() => (window as any).jupyterapp.commands.execute('notebook:trust'));
  await alice.locator('.jp-Dialog .jp-mod-accept').click();
  await expect.poll(() => trustedCells(alice)).toEqual([true]);

  await bob.evaluate(output => {
    const widget = (window as any).jupyterapp.shell.currentWidget;
    widget.context.model.sharedModel.cells[0].setOutputs([output]);
  }, HTML_OUTPUT);

  await expectNothingRan(alice);
  expect(await trustedCells(alice)).toEqual([false]); // until she trusts it again
  await screenshots(testInfo, 'trusted-cell', { alice, bob });
  await alice.context().close();
  await bob.context().close();
});
