import { DocumentChange, YDocument, YFile, YNotebook } from '@jupyter/ydoc';

import { DocumentType } from '../api';
import { IDocumentConnection, ILiveDocument, LiveDocuments } from '../provider';

function makeLive(
  path: string,
  type: DocumentType,
  model: YDocument<DocumentChange> = type === 'notebook' ? new YNotebook() : new YFile()
): ILiveDocument {
  return {
    path,
    type,
    model,
    role: 'editor',
    canExecute: true,
    locked: new Set(),
    cellNumber: () => null,
    connection: new Promise<IDocumentConnection>(() => undefined)
  };
}

/** Only `dispose` is looked at. */
function makeConnection(): IDocumentConnection & { disposed: number } {
  const connection = {
    disposed: 0,
    dispose: () => {
      connection.disposed += 1;
    }
  };
  return connection as unknown as IDocumentConnection & { disposed: number };
}

describe('LiveDocuments', () => {
  it('finds a notebook open as a notebook and as a file by the content type asked', () => {
    const documents = new LiveDocuments();
    const notebook = makeLive('n.ipynb', 'notebook');
    const file = makeLive('n.ipynb', 'file');
    documents.add(notebook);
    documents.add(file);

    expect(documents.find('n.ipynb', 'notebook')).toBe(notebook);
    expect(documents.find('n.ipynb', 'file')).toBe(file);
    expect(documents.find('n.ipynb')).toBe(notebook);
    expect(documents.find('other.ipynb')).toBeUndefined();
    expect(documents.ofModel(file.model)).toBe(file);
  });

  it('moves the documents at or under a renamed folder, and no others', () => {
    const documents = new LiveDocuments();
    const inside = makeLive('a/b/n.ipynb', 'notebook');
    const deeper = makeLive('a/b/c/t.txt', 'file');
    const sibling = makeLive('a/bc/t.txt', 'file');
    [inside, deeper, sibling].forEach(live => documents.add(live));

    const moved = documents.move('a/b', 'x');

    expect(moved).toEqual([inside, deeper]);
    expect(inside.path).toBe('x/n.ipynb');
    expect(deeper.path).toBe('x/c/t.txt');
    expect(sibling.path).toBe('a/bc/t.txt');
    expect(documents.find('x/n.ipynb')).toBe(inside);
    expect(documents.find('a/b/n.ipynb')).toBeUndefined();
  });

  it('forgets one document and disposes its connection, keeping the other on its path', () => {
    const documents = new LiveDocuments();
    const notebook = makeLive('n.ipynb', 'notebook');
    const file = makeLive('n.ipynb', 'file');
    documents.add(notebook);
    documents.add(file);
    const connection = makeConnection();
    documents.setConnection(notebook, connection);

    documents.forget(notebook);

    expect(connection.disposed).toBe(1);
    expect(documents.connectionOf(notebook.model)).toBeUndefined();
    expect(documents.ofModel(notebook.model)).toBeUndefined();
    expect(documents.find('n.ipynb')).toBe(file);
  });

  it('disposes every connection when cleared', () => {
    const documents = new LiveDocuments();
    const live = makeLive('t.txt', 'file');
    documents.add(live);
    const connection = makeConnection();
    documents.setConnection(live, connection);

    documents.clear();

    expect(connection.disposed).toBe(1);
    expect(documents.find('t.txt')).toBeUndefined();
  });
});
