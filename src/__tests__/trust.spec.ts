import { YNotebook } from '@jupyter/ydoc';
import { CodeCellModel } from '@jupyterlab/cells';
import { NotebookModel } from '@jupyterlab/notebook';
import * as Y from 'yjs';

import { RemoteTrustGuard, remoteCellChanges, untrustCell } from '../trust';

const PAYLOAD = '<img src=x onerror="window.__pwned=1">';
const HTML_OUTPUT = {
  output_type: 'display_data',
  data: { 'text/html': PAYLOAD },
  metadata: {}
};
const REMOTE = { remote: true }; // the origin y-websocket gives the updates it applies

/** A notebook model with one trusted code cell that has a plain output. */
function trustedNotebook(): { model: NotebookModel; cell: CodeCellModel; doc: Y.Doc } {
  const model = new NotebookModel();
  model.sharedModel.insertCell(0, {
    cell_type: 'code',
    id: 'c1',
    source: 'print(1)',
    metadata: {},
    outputs: [{ output_type: 'stream', name: 'stdout', text: '1\n' }]
  });
  const cell = model.cells.get(0) as CodeCellModel;
  cell.trusted = true;
  return { model, cell, doc: (model.sharedModel as YNotebook).ydoc };
}

/** A second replica of `doc`, where a collaborator makes a change. */
function peerOf(doc: Y.Doc): Y.Doc {
  const peer = new Y.Doc();
  Y.applyUpdate(peer, Y.encodeStateAsUpdate(doc));
  return peer;
}

function deliver(from: Y.Doc, to: Y.Doc): void {
  Y.applyUpdate(to, Y.encodeStateAsUpdate(from, Y.encodeStateVector(to)), REMOTE);
}

function guard(model: NotebookModel): RemoteTrustGuard {
  return new RemoteTrustGuard({
    doc: (model.sharedModel as YNotebook).ydoc,
    untrust: id => {
      for (const cell of model.cells) {
        if (cell.id === id) {
          untrustCell(cell);
        }
      }
    }
  });
}

function htmlCell(metadata: Record<string, unknown>): Y.Map<unknown> {
  const output = new Y.Map<unknown>(Object.entries(HTML_OUTPUT));
  return new Y.Map<unknown>([
    ['id', 'forged'],
    ['cell_type', 'code'],
    ['source', new Y.Text('display(HTML(...))')],
    ['metadata', new Y.Map<unknown>(Object.entries(metadata))],
    ['execution_count', 1],
    ['outputs', Y.Array.from([output])]
  ]);
}

describe('RemoteTrustGuard', () => {
  it('untrusts a trusted cell before a collaborator’s outputs reach its model', () => {
    const { model, cell, doc } = trustedNotebook();
    const g = guard(model);
    const seen: boolean[] = [];
    cell.outputs.changed.connect((outputs, change) => {
      if (change.type === 'add') {
        seen.push(...change.newValues.map(output => output.trusted));
      }
    });
    const written: unknown[] = [];
    doc.on('update', (_update: Uint8Array, origin: unknown) => written.push(origin));

    const peer = peerOf(doc);
    const outputs = peer.getArray<Y.Map<unknown>>('cells').get(0).get('outputs') as Y.Array<unknown>;
    peer.transact(() => {
      outputs.delete(0, outputs.length);
      outputs.push([new Y.Map<unknown>(Object.entries(HTML_OUTPUT))]);
    });
    deliver(peer, doc);

    expect(cell.trusted).toBe(false);
    expect(seen).toEqual([false]);
    expect(cell.outputs.toJSON()).toEqual([HTML_OUTPUT]);
    expect(written).toEqual([REMOTE]); // the shared outputs were not rewritten from here
    g.dispose();
  });

  it('keeps the trust of outputs this browser writes', () => {
    const { model, cell } = trustedNotebook();
    const g = guard(model);

    cell.outputs.add(HTML_OUTPUT);

    expect(cell.trusted).toBe(true);
    expect(cell.outputs.get(1).trusted).toBe(true);
    g.dispose();
  });

  it('keeps trust when a collaborator edits only the source', () => {
    const { model, cell, doc } = trustedNotebook();
    const g = guard(model);

    const peer = peerOf(doc);
    const source = peer.getArray<Y.Map<unknown>>('cells').get(0).get('source') as Y.Text;
    source.insert(0, '# ');
    deliver(peer, doc);

    expect(cell.trusted).toBe(true);
    g.dispose();
  });

  it('removes a trusted mark from a cell a collaborator inserts, before its model is built', () => {
    const { model, doc } = trustedNotebook();
    const g = guard(model);

    const peer = peerOf(doc);
    peer.getArray('cells').push([htmlCell({ trusted: true, tags: ['x'] })]);
    deliver(peer, doc);

    const forged = model.cells.get(1) as CodeCellModel;
    expect(forged.id).toBe('forged');
    expect(forged.trusted).toBe(false);
    expect(forged.outputs.get(0).trusted).toBe(false);
    expect(forged.sharedModel.getMetadata()).toEqual({ tags: ['x'] });
    g.dispose();
  });

  it('stops watching once disposed', () => {
    const { model, cell, doc } = trustedNotebook();
    guard(model).dispose();

    const peer = peerOf(doc);
    const outputs = peer.getArray<Y.Map<unknown>>('cells').get(0).get('outputs') as Y.Array<unknown>;
    outputs.push([new Y.Map<unknown>(Object.entries(HTML_OUTPUT))]);
    deliver(peer, doc);

    expect(cell.trusted).toBe(true);
  });
});

describe('remoteCellChanges', () => {
  it('names cells whose outputs were replaced, inserted into or edited inside', () => {
    const doc = new Y.Doc();
    const cells = doc.getArray('cells');
    cells.push([htmlCell({})]);
    const results: Set<string>[] = [];
    doc.on('beforeObserverCalls', (tr: Y.Transaction) => {
      results.push(remoteCellChanges(tr, cells).outputs);
    });
    const cell = cells.get(0) as Y.Map<unknown>;

    cell.set('outputs', new Y.Array());
    (cell.get('outputs') as Y.Array<unknown>).push([new Y.Map([['output_type', 'stream']])]);
    ((cell.get('outputs') as Y.Array<Y.Map<unknown>>).get(0)).set('text', 'x');
    (cell.get('source') as Y.Text).insert(0, 'y');
    (cell.get('metadata') as Y.Map<unknown>).set('tags', []);

    expect(results.map(ids => [...ids])).toEqual([
      ['forged'],
      ['forged'],
      ['forged'],
      [],
      []
    ]);
  });
});
