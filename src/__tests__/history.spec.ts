import { ServerConnection } from '@jupyterlab/services';
import { Widget } from '@lumino/widgets';

import { parseEvent, Role } from '../connection';
import {
  authorsOf,
  historyAPI,
  HistoryPanel,
  ICellChange,
  IHistory,
  IHistoryAPI,
  IVersion,
  kindText,
  listedVersions,
  readNotebookDiff,
  sizeText,
  splitLines,
  summaryText,
  toComparison,
  toHistory,
  toPreview,
  toVersion,
  VersionComparison,
  VersionPreview,
  whenText
} from '../history';

// -- fixtures -------------------------------------------------------------------------

function version(overrides: Partial<IVersion> = {}): IVersion {
  return {
    id: 1,
    seq: 10,
    created_at: 1_764_930_000,
    kind: 'auto',
    name: null,
    by: null,
    authors: ['ann'],
    summary: { added: 0, removed: 0, changed: 1, moved: 0 },
    ...overrides
  };
}

/** A version as the server sends it (docs/PROTOCOL.md, "History"). */
const WIRE_VERSION = {
  id: 12,
  seq: 5120,
  created_at: 1_764_930_000.0,
  kind: 'named',
  name: 'before refactor',
  by: 'bob',
  authors: ['ann', 'bob'],
  summary: { added: 1, removed: 0, changed: 3, moved: 0 }
};

/**
 * A real answer's `base` and `diff`: nbdime 4's `diff_notebooks(base, new)` where `new`
 * changed `y = 2` to `y = 5` in c1 (and re-ran it: new output, count 4), deleted c2,
 * rewrote c3 (a line inserted, three lines edited) and added c4 at the end.
 */
const BASE = {
  nbformat: 4,
  nbformat_minor: 5,
  metadata: { kernelspec: { name: 'python3', display_name: 'Python 3', language: 'python' } },
  cells: [
    { cell_type: 'markdown', id: 'm1', metadata: {}, source: '# Title' },
    {
      cell_type: 'code',
      id: 'c1',
      metadata: {},
      source: 'x = 1\ny = 2\nprint(x + y)',
      execution_count: 1,
      outputs: [{ output_type: 'stream', name: 'stdout', text: '3\n' }]
    },
    { cell_type: 'code', id: 'c2', metadata: {}, source: 'import os', execution_count: 2, outputs: [] },
    {
      cell_type: 'code',
      id: 'c3',
      metadata: {},
      source: 'def f():\n    return 1\n\nf()',
      execution_count: 3,
      outputs: []
    }
  ]
};
const NBDIME_DIFF = [
  {
    op: 'patch',
    key: 'cells',
    diff: [
      {
        op: 'patch',
        key: 1,
        diff: [
          { op: 'replace', key: 'execution_count', value: 4 },
          {
            op: 'patch',
            key: 'outputs',
            diff: [
              {
                op: 'addrange',
                key: 0,
                valuelist: [{ output_type: 'stream', name: 'stdout', text: '6\n' }]
              },
              { op: 'removerange', key: 0, length: 1 }
            ]
          },
          {
            op: 'patch',
            key: 'source',
            diff: [
              {
                op: 'patch',
                key: 1,
                diff: [
                  { op: 'addrange', key: 4, valuelist: '5' },
                  { op: 'removerange', key: 4, length: 1 }
                ]
              }
            ]
          }
        ]
      },
      { op: 'removerange', key: 2, length: 1 },
      {
        op: 'patch',
        key: 3,
        diff: [
          {
            op: 'patch',
            key: 'source',
            diff: [
              { op: 'patch', key: 0, diff: [{ op: 'addrange', key: 6, valuelist: 'a' }] },
              { op: 'addrange', key: 1, valuelist: ['    # doubled\n'] },
              {
                op: 'patch',
                key: 1,
                diff: [
                  { op: 'addrange', key: 11, valuelist: '2 * a' },
                  { op: 'removerange', key: 11, length: 1 }
                ]
              },
              { op: 'patch', key: 3, diff: [{ op: 'addrange', key: 2, valuelist: '2' }] }
            ]
          }
        ]
      },
      {
        op: 'addrange',
        key: 4,
        valuelist: [
          {
            cell_type: 'code',
            id: 'c4',
            metadata: {},
            source: 'w = 4\nprint(w)',
            execution_count: null,
            outputs: []
          }
        ]
      }
    ]
  }
];

/** Python's `difflib.unified_diff` of a text file, as the server sends it. */
const UNIFIED_DIFF = [
  '--- \n',
  '+++ \n',
  '@@ -1,4 +1,5 @@\n',
  ' alpha\n',
  '-beta\n',
  '+BETA\n',
  ' gamma\n',
  ' delta\n',
  '+epsilon\n'
];

function changed(change: ICellChange) {
  if (change.kind !== 'changed') {
    throw new Error(`expected a changed cell, got ${change.kind}`);
  }
  return change;
}

// -- words ----------------------------------------------------------------------------

describe('the words of a version row', () => {
  it('summarizes a notebook version as cells added, removed, changed and moved', () => {
    expect(summaryText({ added: 1, removed: 0, changed: 3, moved: 1 }, 'notebook')).toBe(
      '+1 cell · 3 changed · 1 moved'
    );
    expect(summaryText({ added: 2, removed: 1, changed: 0, moved: 0 }, 'notebook')).toBe(
      '+2 cells · −1 cell'
    );
  });

  it('summarizes a text file version as lines added and removed', () => {
    expect(summaryText({ lines_added: 4, lines_removed: 2 }, 'file')).toBe('+4 −2 lines');
  });

  it('says "no changes" when a version changed nothing, or the summary is empty', () => {
    expect(summaryText({ added: 0, removed: 0, changed: 0, moved: 0 }, 'notebook')).toBe(
      'no changes'
    );
    expect(summaryText({}, 'file')).toBe('no changes');
  });

  it('shows a named version by its name, a restore by what it restored', () => {
    expect(kindText(version({ kind: 'auto' }))).toBe('auto');
    expect(kindText(version({ kind: 'named', name: 'before refactor' }))).toBe('before refactor');
    expect(kindText(version({ kind: 'restore', name: 'restored version 3' }))).toBe(
      'restored version 3'
    );
  });

  it('tells when a version was made relative to now', () => {
    const v = version({ created_at: 1000 });
    expect(whenText(v, 1000 + 5 * 60)).toBe('5 min ago');
    expect(whenText(v, 1001)).toBe('just now');
  });

  it("writes the history's size in B, KB and MB", () => {
    expect(sizeText(812)).toBe('812 B');
    expect(sizeText(4096)).toBe('4.0 KB');
    expect(sizeText(1.2 * 1024 * 1024)).toBe('1.2 MB');
  });
});

describe('the list and its filter by person', () => {
  const versions = [
    version({ id: 1, created_at: 100, authors: ['ann'] }),
    version({ id: 2, created_at: 200, authors: ['bob', 'ann'] }),
    version({ id: 3, created_at: 300, authors: ['cy'] })
  ];

  it('lists the versions newest first', () => {
    expect(listedVersions(versions, null).map(v => v.id)).toEqual([3, 2, 1]);
  });

  it("keeps only the versions a person changed the document in", () => {
    expect(listedVersions(versions, 'ann').map(v => v.id)).toEqual([2, 1]);
    expect(listedVersions(versions, 'dora')).toEqual([]);
  });

  it('offers everyone who changed the document, each once, sorted', () => {
    expect(authorsOf(versions)).toEqual(['ann', 'bob', 'cy']);
  });
});

// -- the server's answers -------------------------------------------------------------

describe("narrowing the server's answers", () => {
  it('reads a history list as the protocol gives it', () => {
    const history = toHistory({
      path: 'a.ipynb',
      type: 'notebook',
      versions: [WIRE_VERSION],
      size: { bytes: 1234, rows: 10, snapshots: 1 }
    });
    expect(history.versions[0]).toEqual(WIRE_VERSION);
    expect(history.size.bytes).toBe(1234);
  });

  it.each([
    ['not an object', 'oops'],
    ['no size', { path: 'a', type: 'notebook', versions: [] }],
    ['an unknown type', { path: 'a', type: 'pdf', versions: [], size: { bytes: 0, rows: 0, snapshots: 0 } }],
    ['a negative size', { path: 'a', type: 'file', versions: [], size: { bytes: -1, rows: 0, snapshots: 0 } }],
    [
      'a version without authors',
      {
        path: 'a',
        type: 'file',
        versions: [{ ...WIRE_VERSION, authors: undefined }],
        size: { bytes: 0, rows: 0, snapshots: 0 }
      }
    ]
  ])('rejects a history list with %s', (_, body) => {
    expect(() => toHistory(body)).toThrow(TypeError);
  });

  it.each([
    ['an unknown kind', { ...WIRE_VERSION, kind: 'magic' }],
    ['a text id', { ...WIRE_VERSION, id: '12' }],
    ['an author that is not a name', { ...WIRE_VERSION, authors: ['ann', 7] }],
    ['a summary count that is text', { ...WIRE_VERSION, summary: { added: '1' } }],
    ['a name that is a number', { ...WIRE_VERSION, name: 5 }]
  ])('rejects a version with %s', (_, body) => {
    expect(() => toVersion(body)).toThrow(TypeError);
  });

  it("reads a notebook preview's cells, joining sources given as lists of lines", () => {
    const preview = toPreview({
      path: 'a.ipynb',
      type: 'notebook',
      version: WIRE_VERSION,
      content: {
        cells: [
          {
            cell_type: 'code',
            id: 'c1',
            source: ['x = 1\n', 'print(x)'],
            execution_count: 7,
            outputs: [{ output_type: 'stream', name: 'stdout', text: ['1\n'] }]
          },
          { cell_type: 'markdown', id: 'm1', source: '# Hi' }
        ]
      }
    });
    expect(preview.type === 'notebook' && preview.cells).toEqual([
      { id: 'c1', cell_type: 'code', source: 'x = 1\nprint(x)', execution_count: 7, outputs: ['1\n'] },
      { id: 'm1', cell_type: 'markdown', source: '# Hi', execution_count: null, outputs: [] }
    ]);
  });

  it("reads a text file preview's text", () => {
    const preview = toPreview({ path: 'a.txt', type: 'file', version: WIRE_VERSION, content: 'hello\n' });
    expect(preview.type === 'file' && preview.text).toBe('hello\n');
  });

  it('rejects a preview whose cells have no source, or a file preview without text', () => {
    const bad = { cells: [{ cell_type: 'code', id: 'c1' }] };
    expect(() =>
      toPreview({ path: 'a.ipynb', type: 'notebook', version: WIRE_VERSION, content: bad })
    ).toThrow(TypeError);
    expect(() =>
      toPreview({ path: 'a.txt', type: 'file', version: WIRE_VERSION, content: { cells: [] } })
    ).toThrow(TypeError);
  });

  it("colours a text file comparison's lines by what they are", () => {
    const comparison = toComparison({
      path: 'a.txt',
      type: 'file',
      from: WIRE_VERSION,
      to: null,
      diff: UNIFIED_DIFF
    });
    expect(comparison.to).toBeNull();
    expect(comparison.type === 'file' && comparison.lines).toEqual([
      { kind: 'header', text: '--- ' },
      { kind: 'header', text: '+++ ' },
      { kind: 'hunk', text: '@@ -1,4 +1,5 @@' },
      { kind: 'same', text: 'alpha' },
      { kind: 'removed', text: 'beta' },
      { kind: 'added', text: 'BETA' },
      { kind: 'same', text: 'gamma' },
      { kind: 'same', text: 'delta' },
      { kind: 'added', text: 'epsilon' }
    ]);
  });

  it('rejects a comparison whose diff is not lines or not an nbdime diff', () => {
    expect(() =>
      toComparison({ path: 'a.txt', type: 'file', from: WIRE_VERSION, to: null, diff: [1, 2] })
    ).toThrow(TypeError);
    expect(() =>
      toComparison({
        path: 'a.ipynb',
        type: 'notebook',
        from: WIRE_VERSION,
        to: null,
        base: BASE,
        diff: [{ op: 'explode', key: 'cells' }]
      })
    ).toThrow(TypeError);
  });
});

// -- nbdime's diff --------------------------------------------------------------------

describe("reading nbdime's diff of two notebooks", () => {
  const { cells, metadataChanged } = readNotebookDiff(BASE, NBDIME_DIFF);

  it('lists the cells in the new order: kept, changed, removed, added', () => {
    expect(cells.map(c => [c.kind, c.kind === 'changed' ? c.before.id : c.cell.id])).toEqual([
      ['same', 'm1'],
      ['changed', 'c1'],
      ['removed', 'c2'],
      ['changed', 'c3'],
      ['added', 'c4']
    ]);
    expect(metadataChanged).toBe(false);
  });

  it("gives a changed cell's new source, execution count and outputs", () => {
    const c1 = changed(cells[1]);
    expect(c1.after.source).toBe('x = 1\ny = 5\nprint(x + y)');
    expect(c1.after.execution_count).toBe(4);
    expect(c1.outputsChanged).toBe(true);
    expect(c1.after.outputs).toEqual(['6\n']);
    const c3 = changed(cells[3]);
    expect(c3.after.source).toBe('def f(a):\n    # doubled\n    return 2 * a\n\nf(2)');
    expect(c3.outputsChanged).toBe(false);
  });

  it("shows a changed cell's source as a line diff, the old line before the new", () => {
    expect(changed(cells[1]).lines).toEqual([
      { kind: 'same', text: 'x = 1' },
      { kind: 'removed', text: 'y = 2' },
      { kind: 'added', text: 'y = 5' },
      { kind: 'same', text: 'print(x + y)' }
    ]);
    expect(changed(cells[3]).lines).toEqual([
      { kind: 'removed', text: 'def f():' },
      { kind: 'added', text: 'def f(a):' },
      { kind: 'added', text: '    # doubled' },
      { kind: 'removed', text: '    return 1' },
      { kind: 'added', text: '    return 2 * a' },
      { kind: 'same', text: '' },
      { kind: 'removed', text: 'f()' },
      { kind: 'added', text: 'f(2)' }
    ]);
  });

  it('reads an added cell whole and keeps a removed cell as it was', () => {
    const [removed, added] = [cells[2], cells[4]];
    expect(removed.kind === 'removed' && removed.cell.source).toBe('import os');
    expect(added.kind === 'added' && added.cell.source).toBe('w = 4\nprint(w)');
  });

  it('says no cell changed for an empty diff', () => {
    expect(readNotebookDiff(BASE, []).cells.every(c => c.kind === 'same')).toBe(true);
  });

  it("notes a change of the notebook's own metadata", () => {
    const diff = [{ op: 'patch', key: 'metadata', diff: [{ op: 'add', key: 'title', value: 'x' }] }];
    expect(readNotebookDiff(BASE, diff).metadataChanged).toBe(true);
  });

  it('rejects a diff that does not fit its base notebook', () => {
    const beyond = [{ op: 'patch', key: 'cells', diff: [{ op: 'removerange', key: 3, length: 2 }] }];
    const backwards = [
      {
        op: 'patch',
        key: 'cells',
        diff: [
          { op: 'removerange', key: 2, length: 1 },
          { op: 'removerange', key: 0, length: 1 }
        ]
      }
    ];
    expect(() => readNotebookDiff(BASE, beyond)).toThrow(TypeError);
    expect(() => readNotebookDiff(BASE, backwards)).toThrow(TypeError);
    expect(() => readNotebookDiff({ cells: 'none' }, [])).toThrow(TypeError);
  });

  it("counts lines as Python's splitlines does, so nbdime's line numbers match", () => {
    expect(splitLines('a\r\nb\rc\n')).toEqual(['a\r\n', 'b\r', 'c\n']);
    expect(splitLines('')).toEqual([]);
  });
});

// -- the room's event and the REST calls ----------------------------------------------

describe('the version event', () => {
  it('reaches the client instead of being dropped as unknown', () => {
    const event = parseEvent(JSON.stringify({ type: 'version', version: WIRE_VERSION }));
    expect(event).toEqual({ type: 'version', version: WIRE_VERSION });
    expect(toVersion(event?.type === 'version' ? event.version : null).name).toBe(
      'before refactor'
    );
  });
});

describe('the history calls', () => {
  function fakeServer(status: number, answer: unknown) {
    const requests: { url: string; method: string; body: unknown }[] = [];
    const settings = ServerConnection.makeSettings({
      baseUrl: 'http://localhost:8888/base/',
      fetch: (async (input: RequestInfo, init?: RequestInit) => {
        const request = input as Request;
        const body = init?.body ?? (request.method === 'POST' ? await request.text() : undefined);
        requests.push({
          url: request.url ?? String(input),
          method: init?.method ?? request.method ?? 'GET',
          body: body ? JSON.parse(String(body)) : undefined
        });
        return new Response(JSON.stringify(answer), { status });
      }) as typeof fetch
    });
    return { api: historyAPI(settings), requests };
  }

  it('asks for a comparison with the document now', async () => {
    const { api, requests } = fakeServer(200, {
      path: 'dir/a b.txt',
      type: 'file',
      from: WIRE_VERSION,
      to: null,
      diff: []
    });
    await api.compare('dir/a b.txt', 12, 'current');
    // (JupyterLab adds a cache-busting number to GETs)
    expect(requests[0].url).toMatch(
      /^http:\/\/localhost:8888\/base\/api\/collab\/history\/dir\/a%20b\.txt\?from=12&to=current(&\d+)?$/
    );
  });

  it('restores one cell of a version with a POST', async () => {
    const { api, requests } = fakeServer(200, { version: { ...WIRE_VERSION, kind: 'restore' } });
    const restored = await api.restore('a.ipynb', 12, 'c1');
    expect(requests[0].method).toBe('POST');
    expect(requests[0].body).toEqual({ type: 'version.restore', version: 12, cell: 'c1' });
    expect(restored.kind).toBe('restore');
  });

  it("passes on the server's reason when it refuses", async () => {
    const reason = 'viewers may list and preview versions, not name or restore them';
    const { api } = fakeServer(403, { message: reason });
    await expect(api.name('a.ipynb', 'final')).rejects.toThrow(reason);
  });
});

// -- the views ------------------------------------------------------------------------

describe('the main-area views', () => {
  it('marks added and removed cells and the changed outputs in a comparison', () => {
    const view = new VersionComparison(
      toComparison({
        path: 'a.ipynb',
        type: 'notebook',
        from: WIRE_VERSION,
        to: null,
        base: BASE,
        diff: NBDIME_DIFF
      })
    );
    const node = view.node;
    expect(node.querySelectorAll('.jp-mod-added')).toHaveLength(1);
    expect(node.querySelector('.jp-mod-added')?.textContent).toContain('w = 4');
    expect(node.querySelector('.jp-mod-removed')?.textContent).toContain('import os');
    expect(node.querySelectorAll('.jp-mod-changed')).toHaveLength(2);
    expect(node.querySelector('.jp-mod-changed')?.textContent).toContain('outputs changed');
    expect(node.querySelector('.jp-collab-history-unchanged summary')?.textContent).toBe(
      '1 unchanged cell'
    );
    view.dispose();
  });

  it('offers "Restore this cell" in a preview only to people who may edit', () => {
    const preview = toPreview({
      path: 'a.ipynb',
      type: 'notebook',
      version: WIRE_VERSION,
      content: BASE
    });
    const restored: string[] = [];
    const editor = new VersionPreview({
      preview,
      canRestore: () => true,
      restoreCell: id => restored.push(id)
    });
    const viewer = new VersionPreview({ preview, canRestore: () => false, restoreCell: () => undefined });
    const buttons = editor.node.querySelectorAll('button');
    expect(buttons).toHaveLength(4);
    (buttons[1] as HTMLButtonElement).click();
    expect(restored).toEqual(['c1']);
    expect(editor.node.textContent).toContain('[1] code');
    expect(viewer.node.querySelectorAll('button')).toHaveLength(0);
    editor.dispose();
    viewer.dispose();
  });
});

// -- the side panel -------------------------------------------------------------------

describe('the History panel', () => {
  const history: IHistory = {
    path: 'a.ipynb',
    type: 'notebook',
    versions: [
      version({ id: 1, created_at: 100, authors: ['ann'], summary: { added: 2 } }),
      version({ id: 2, created_at: 200, kind: 'named', name: 'draft', authors: ['bob'] })
    ],
    size: { bytes: 1.2 * 1024 * 1024, rows: 40, snapshots: 1 }
  };
  const api: IHistoryAPI = {
    list: async () => history,
    preview: async () => {
      throw new Error('not used');
    },
    compare: async () => {
      throw new Error('not used');
    },
    name: async () => history.versions[1],
    restore: async () => history.versions[1]
  };

  async function shownPanel(role: Role | null): Promise<HistoryPanel> {
    const panel = new HistoryPanel({ api, open: () => undefined });
    Widget.attach(panel, document.body);
    panel.context = { path: 'a.ipynb', type: 'notebook', role: () => role };
    await panel.refresh();
    return panel;
  }

  const rows = (panel: HistoryPanel) =>
    Array.from(panel.node.querySelectorAll('.jp-collab-history-version'));
  const buttons = (node: Element) =>
    Array.from(node.querySelectorAll('button')).map(b => (b.hidden ? null : b.textContent));

  it('lists the versions newest first with kind, authors and summary, and the size below', async () => {
    const panel = await shownPanel('editor');
    expect(rows(panel).map(r => r.querySelector('.jp-collab-history-kind')?.textContent)).toEqual([
      'draft',
      'auto'
    ]);
    expect(rows(panel)[1].textContent).toContain('ann');
    expect(rows(panel)[1].textContent).toContain('+2 cells');
    expect(panel.node.querySelector('.jp-collab-history-footer')?.textContent).toBe(
      'History: 1.2 MB'
    );
    expect(buttons(rows(panel)[0])).toEqual(['Preview', 'Compare with now', 'Restore']);
    expect(buttons(panel.node)).toContain('Name this version…');
    panel.dispose();
  });

  it('filters the list by the person chosen', async () => {
    const panel = await shownPanel('editor');
    const select = panel.node.querySelector('select')!;
    expect(Array.from(select.options).map(o => o.textContent)).toEqual(['Everyone', 'ann', 'bob']);
    select.value = 'bob';
    select.dispatchEvent(new Event('change'));
    expect(rows(panel).map(r => r.querySelector('.jp-collab-history-kind')?.textContent)).toEqual([
      'draft'
    ]);
    panel.dispose();
  });

  it('hides Restore and Name from people who may not edit', async () => {
    const panel = await shownPanel('viewer');
    expect(buttons(rows(panel)[0])).toEqual(['Preview', 'Compare with now']);
    expect(buttons(panel.node)).not.toContain('Name this version…');
    panel.dispose();
  });

  it("shows the server's reason when the list cannot be read", async () => {
    const refusing = new HistoryPanel({
      api: { ...api, list: async () => Promise.reject(new Error('/a.ipynb has no history yet')) },
      open: () => undefined
    });
    Widget.attach(refusing, document.body);
    refusing.context = { path: 'a.ipynb', type: 'notebook', role: () => 'editor' };
    await refusing.refresh();
    expect(refusing.node.querySelector('.jp-collab-history-empty')?.textContent).toBe(
      'History not loaded: /a.ipynb has no history yet'
    );
    refusing.dispose();
  });
});
