/**
 * Two users editing the same documents live, through the jupyter-collab
 * server (the frontend must open notebooks and text files as shared documents;
 * how to run: the header of ../playwright.config.js).
 *
 * Each user has its own browser context (cookies, storage) and workspace.
 * Screenshots of both views land in test-results/<test>/.
 */
import { expect, test } from '@playwright/test';

import {
  expectEditorText,
  getFile,
  notebook,
  openPair,
  putFile,
  screenshots,
  typeAtEnd,
  reloadLab,
  USERS
} from './helpers';

test('notebook: typing, carets, new cells and reload are shared', async ({
  browser,
  request
}, testInfo) => {
  const nb = 'shared.ipynb';
  await putFile(request, 'alice', nb, notebook(''));

  const { alice, bob, a, b } = await openPair(browser, nb, 'nb');
  await expect(a.cells).toHaveCount(1);
  await expect(b.cells).toHaveCount(1);

  // 1. alice types in cell 1; bob sees it
  await a.cell(0).click();
  await alice.keyboard.type('alice_was_here = 1');
  await expectEditorText(b.cell(0), 'alice_was_here = 1');

  // 2. bob puts his caret in that cell; alice sees his caret with his name and colour
  await b.cell(0).click();
  await bob.keyboard.press('End');
  const bobLabel = a.remoteLabel('Bob');
  await expect(bobLabel).toHaveCount(1);
  await expect(bobLabel).toHaveText(USERS.bob.display_name);
  // the room's colour for him (the first two of the palette go to the first two people),
  // not his identity's: identities may share colours, people in a document do not
  await expect(a.remoteCaret('Bob')).toHaveAttribute(
    'style',
    /--jp-collab-user-color:\s*#(2977b2|f03c38)/i
  );
  // nobody sees a caret of their own
  await expect(a.remoteLabel('Alice')).toHaveCount(0);

  // 3. bob inserts a cell below (command mode: Escape, then B) and types in it
  await bob.keyboard.press('Escape');
  await bob.keyboard.press('b');
  await expect(b.cells).toHaveCount(2);
  await expect(a.cells).toHaveCount(2);
  await bob.keyboard.press('Enter'); // edit mode in the new cell
  await bob.keyboard.type('bob_cell = 2');
  await expectEditorText(a.cell(1), 'bob_cell = 2');
  await expectEditorText(a.cell(0), 'alice_was_here = 1');
  await screenshots(testInfo, 'notebook', { alice, bob });

  // 4. the server writes the file by itself once edits pause (debounced save)
  await expect
    .poll(
      async () =>
        (await getFile(request, 'alice', nb)).cells.map(
          (c: { source: string }) => c.source
        ),
      { timeout: 30_000 }
    )
    .toEqual(['alice_was_here = 1', 'bob_cell = 2']);

  // 5. alice reloads: the shared content is still there, and still live
  await reloadLab(alice);
  await expect(a.cells).toHaveCount(2);
  await expectEditorText(a.cell(0), 'alice_was_here = 1');
  await expectEditorText(a.cell(1), 'bob_cell = 2');
  await b.cell(1).click();
  await bob.keyboard.press('End');
  await bob.keyboard.type(' # after reload');
  await expectEditorText(a.cell(1), 'bob_cell = 2 # after reload');
  await screenshots(testInfo, 'notebook-reloaded', { alice, bob });

  await Promise.all([alice, bob].map(p => p.context().close()));
});

test('text file: typing is shared both ways and survives a reload', async ({
  browser,
  request
}, testInfo) => {
  const file = 'shared.py';
  await putFile(request, 'alice', file, 'start = 0\n');

  const { alice, bob, a, b } = await openPair(browser, file, 'py');
  await expectEditorText(a.file, 'start = 0\n');
  await expectEditorText(b.file, 'start = 0\n');

  // alice appends a line; bob sees it
  await typeAtEnd(alice, a.file, 'alice_line = 1');
  await expectEditorText(b.file, 'start = 0\nalice_line = 1');

  // bob appends another; alice sees it, and bob's caret
  await typeAtEnd(bob, b.file, 'bob_line = 2', { newLine: true });
  await expectEditorText(a.file, 'start = 0\nalice_line = 1\nbob_line = 2');
  await expect(a.remoteLabel('Bob')).toHaveCount(1);
  await screenshots(testInfo, 'file', { alice, bob });

  const expected = 'start = 0\nalice_line = 1\nbob_line = 2';
  await expect
    .poll(async () => (await getFile(request, 'alice', file)).trimEnd(), {
      timeout: 30_000
    })
    .toBe(expected);

  await reloadLab(alice);
  await expectEditorText(a.file, 'start = 0\nalice_line = 1\nbob_line = 2');
  await screenshots(testInfo, 'file-reloaded', { alice, bob });

  await Promise.all([alice, bob].map(p => p.context().close()));
});
