/**
 * Editing semantics of shared documents (how to run: the header of
 * ../playwright.config.js):
 *
 * - undo is per user: Ctrl+Z (and redo, Ctrl+Shift+Z) touches only the presser's
 *   own edits (JupyterLab binds CodeMirror's undo to the shared model's Yjs
 *   UndoManager, which tracks local origins only), in a text file and a notebook cell;
 * - a change another program makes to the file is merged into the live document
 *   (the room follows contents-API writes at once and polls the disk every 2 s),
 *   and the next Ctrl+S raises no "File Changed" dialog.
 *
 * Each user has its own browser context and workspace. Screenshots of both views
 * land in test-results/<test>/.
 */
import { expect, Page, test } from '@playwright/test';

import {
  editorIn,
  expectEditorText,
  getFile,
  notebook,
  openAs,
  openPair,
  putFile,
  screenshots,
  typeAtEnd
} from './helpers';

/** The current tab of the main area (its `jp-mod-dirty` class marks unsaved changes). */
function currentTab(page: Page) {
  return page.locator('#jp-main-dock-panel .lm-TabBar-tab.jp-mod-current');
}

test('undo is per user in a text file', async ({
  browser,
  request
}, testInfo) => {
  const file = 'undo.py';
  await putFile(request, 'alice', file, 'x = 1\n');

  const { alice, bob, a, b } = await openPair(browser, file, 'undo-py');
  await expectEditorText(a.file, 'x = 1\n');
  await expectEditorText(b.file, 'x = 1\n');

  // alice types at the end (the empty last line); bob sees it
  await typeAtEnd(alice, a.file, 'ALICE');
  await expectEditorText(b.file, 'x = 1\nALICE');

  // bob types on a new line below; both see both
  await typeAtEnd(bob, b.file, 'BOB', { newLine: true });
  await expectEditorText(a.file, 'x = 1\nALICE\nBOB');
  await expectEditorText(b.file, 'x = 1\nALICE\nBOB');
  await screenshots(testInfo, 'before-undo', { alice, bob });

  // alice undoes in her own (still focused) editor: only her edit goes, for both
  await expect(a.file).toBeFocused();
  await alice.keyboard.press('Control+z');
  await expectEditorText(a.file, 'x = 1\n\nBOB');
  await expectEditorText(b.file, 'x = 1\n\nBOB');
  await screenshots(testInfo, 'after-undo', { alice, bob });

  // ... and that is what reaches the disk
  await expect
    .poll(async () => getFile(request, 'alice', file), { timeout: 30_000 })
    .toBe('x = 1\n\nBOB');

  // redo brings back her edit, and still leaves bob's alone
  await a.file.click();
  await alice.keyboard.press('Control+Shift+z');
  await expectEditorText(b.file, 'x = 1\nALICE\nBOB');
  await expectEditorText(a.file, 'x = 1\nALICE\nBOB');

  await Promise.all([alice, bob].map(p => p.context().close()));
});

test('undo is per user in a notebook cell', async ({
  browser,
  request
}, testInfo) => {
  const nb = 'undo.ipynb';
  await putFile(request, 'alice', nb, notebook('x = 1\n'));

  const { alice, bob, a, b } = await openPair(browser, nb, 'undo-nb');
  await expect(a.cells).toHaveCount(1);
  await expect(b.cells).toHaveCount(1);
  await expectEditorText(a.cell(0), 'x = 1\n');
  await expectEditorText(b.cell(0), 'x = 1\n');

  await typeAtEnd(alice, a.cell(0), 'ALICE');
  await expectEditorText(b.cell(0), 'x = 1\nALICE');

  await typeAtEnd(bob, b.cell(0), 'BOB', { newLine: true });
  await expectEditorText(a.cell(0), 'x = 1\nALICE\nBOB');
  await expectEditorText(b.cell(0), 'x = 1\nALICE\nBOB');
  await screenshots(testInfo, 'before-undo', { alice, bob });

  // edit mode in alice's cell: Ctrl+Z goes to the cell editor, not the notebook
  await expect(a.cell(0)).toBeFocused();
  await alice.keyboard.press('Control+z');
  await expectEditorText(a.cell(0), 'x = 1\n\nBOB');
  await expectEditorText(b.cell(0), 'x = 1\n\nBOB');
  await expect(a.cells).toHaveCount(1);
  await expect(b.cells).toHaveCount(1);
  await screenshots(testInfo, 'after-undo', { alice, bob });

  await expect
    .poll(
      async () =>
        (await getFile(request, 'alice', nb)).cells.map(
          (c: { source: string }) => c.source
        ),
      { timeout: 30_000 }
    )
    .toEqual(['x = 1\n\nBOB']);

  await Promise.all([alice, bob].map(p => p.context().close()));
});

test('an outside change is merged, and saving raises no "File Changed" dialog', async ({
  browser,
  request
}, testInfo) => {
  const file = 'outside.py';
  const original = 'a = 1\nb = 2\n';
  await putFile(request, 'alice', file, original);

  const alice = await openAs(browser, 'alice', file, {
    workspace: 'alice-outside'
  });
  const a = editorIn(alice);
  await expectEditorText(a.file, 'a = 1\nb = 2\n');

  // alice types a line at the top: a collaborative edit, not yet written to disk
  await a.file.click();
  await alice.keyboard.press('Control+Home');
  await alice.keyboard.type('alice_line = 0');
  await alice.keyboard.press('Enter');
  await expectEditorText(a.file, 'alice_line = 0\na = 1\nb = 2\n');
  await expect(currentTab(alice)).toHaveClass(/\bjp-mod-dirty\b/);

  // another program rewrites the file: the ORIGINAL content plus a last line. It must
  // land before the room's debounced save writes her line (3 s after her last keystroke
  // in the ui-tests server config), or it would rightly read as "alice_line deleted".
  await putFile(request, 'alice', file, original + '# from git\n');

  // the change is merged into the live document as a 'disk' edit
  const merged = 'alice_line = 0\na = 1\nb = 2\n# from git\n';
  await expectEditorText(a.file, merged);
  await screenshots(testInfo, 'merged', { alice });

  // alice saves: no "File Changed" dialog; the save completes
  await expect(a.file).toBeFocused();
  await alice.keyboard.press('Control+s');
  const dialog = alice.locator('.jp-Dialog');
  const saved = alice.locator('.jp-StatusBar-Widget', {
    hasText: 'Saving completed'
  });
  // whichever comes first: a dialog fails fast instead of timing out
  await expect(saved.or(dialog).first()).toBeVisible();
  await screenshots(testInfo, 'saved', { alice });
  await expect(dialog).toHaveCount(0);
  await expect(saved).toBeVisible();
  await expect(currentTab(alice)).not.toHaveClass(/\bjp-mod-dirty\b/);

  // the disk holds both lines, exactly once
  const onDisk: string = await getFile(request, 'alice', file);
  expect(onDisk).toBe(merged);
  expect(onDisk.split('alice_line = 0').length - 1).toBe(1);
  expect(onDisk.split('# from git').length - 1).toBe(1);
  await expectEditorText(a.file, merged);
  await expect(dialog).toHaveCount(0);

  await alice.context().close();
});
