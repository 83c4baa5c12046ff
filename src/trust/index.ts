/**
 * Trust is never collaborative, in the browser: outputs a collaborator wrote are shown
 * as JupyterLab shows untrusted output until this person trusts them, and a cell
 * another person marked `trusted` reaches this page untrusted. The server already keeps
 * the mark out of every update it relays; this is the defence in depth, and the part
 * only a browser can do (outputs written into a cell its own person had trusted).
 *
 * No JupyterLab application imports: a guard takes a Yjs document and a callback.
 */
import type { ICellModel } from '@jupyterlab/cells';
import type { IDisposable } from '@lumino/disposable';
import * as Y from 'yjs';

/** The cell metadata key JupyterLab reads when it builds a cell's model. */
export const TRUSTED = 'trusted';

/** Any Yjs shared type (the type parameter is its event type). */
type YType = Y.AbstractType<Y.YEvent<Y.AbstractType<unknown>>>;

/** The origin of this guard's own changes (removing a mark that came from elsewhere). */
export const TRUST_GUARD_ORIGIN = 'jupyter-collab:trust-guard';

/**
 * Options of a `RemoteTrustGuard`.
 */
export interface IRemoteTrustGuardOptions {
  /** The notebook's shared document (`cells` is its array of cell maps). */
  doc: Y.Doc;
  /**
   * Called with each cell whose outputs a remote transaction changed, before any
   * observer of that transaction runs, so before the outputs reach a model or a view.
   */
  untrust: (cellId: string) => void;
}

/**
 * Watches a notebook's shared document for remote transactions (updates applied from
 * the network: `transaction.local` is false) and, before their observers run:
 * untrusts the cells whose outputs they changed, and removes a `trusted` mark from the
 * cells they inserted, since JupyterLab trusts a new cell's model by that mark alone.
 * Outputs this browser's own runs write are local transactions and keep their trust.
 */
export class RemoteTrustGuard implements IDisposable {
  constructor(options: IRemoteTrustGuardOptions) {
    this._doc = options.doc;
    this._cells = options.doc.getArray('cells');
    this._untrust = options.untrust;
    this._doc.on('beforeObserverCalls', this._onTransaction);
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this._doc.off('beforeObserverCalls', this._onTransaction);
  }

  private _onTransaction = (tr: Y.Transaction): void => {
    if (tr.local) {
      return;
    }
    const { outputs, inserted } = remoteCellChanges(tr, this._cells);
    for (const cellId of outputs) {
      this._untrust(cellId);
    }
    const marked = inserted.filter(cell => metadataOf(cell)?.has(TRUSTED));
    if (marked.length > 0) {
      // The data changes at once, before the observers build the cells' models; the
      // removal is also sent on as this person's edit, as the server would have done.
      this._doc.transact(() => {
        for (const cell of marked) {
          metadataOf(cell)?.delete(TRUSTED);
        }
      }, TRUST_GUARD_ORIGIN);
    }
  };

  private _doc: Y.Doc;
  private _cells: Y.Array<unknown>;
  private _untrust: (cellId: string) => void;
  private _isDisposed = false;
}

/**
 * What a transaction changed in a notebook's cells: the ids of cells whose outputs
 * changed (replaced, inserted, removed or edited inside), and the cell maps it inserted.
 */
export function remoteCellChanges(
  tr: Y.Transaction,
  cells: Y.Array<unknown>
): { outputs: Set<string>; inserted: Y.Map<unknown>[] } {
  const outputs = new Set<string>();
  let inserted: Y.Map<unknown>[] = [];
  tr.changed.forEach((keys, type) => {
    if (type === cells) {
      inserted = cells
        .toArray()
        .filter((cell): cell is Y.Map<unknown> => cell instanceof Y.Map && isNew(tr, cell));
      return;
    }
    const place = cellOf(type, cells);
    if (place === null) {
      return;
    }
    const touched = place.key === 'outputs' || (place.key === null && keys.has('outputs'));
    const id = place.cell.get('id');
    if (touched && typeof id === 'string') {
      outputs.add(id);
    }
  });
  return { outputs, inserted };
}

/**
 * Untrust a cell's model without rewriting its shared outputs.
 *
 * JupyterLab changes a cell's trust by re-creating each output model, and each one is
 * written back into the shared model unchanged (trust is not part of an output). Done
 * before a remote transaction's observers, that write would put the outputs this page
 * had before that transaction back over the ones it brought; so it is skipped.
 */
export function untrustCell(cell: ICellModel): void {
  if (!cell.trusted) {
    return;
  }
  const shared = cell.sharedModel as unknown as Record<string, unknown>;
  const own = Object.prototype.hasOwnProperty.call(shared, 'updateOutputs');
  const previous = shared.updateOutputs;
  shared.updateOutputs = () => undefined;
  try {
    cell.trusted = false;
  } finally {
    if (own) {
      shared.updateOutputs = previous;
    } else {
      delete shared.updateOutputs;
    }
  }
}

/** The cell map holding `type`, and the cell's key it sits under (null: the map itself). */
function cellOf(
  type: YType,
  cells: Y.Array<unknown>
): { cell: Y.Map<unknown>; key: string | null } | null {
  let node: YType = type;
  let key: string | null = null;
  while (node._item !== null) {
    const parent = node._item.parent;
    if (parent === cells) {
      return node instanceof Y.Map ? { cell: node, key } : null;
    }
    if (!(parent instanceof Y.AbstractType)) {
      return null;
    }
    key = node._item.parentSub;
    node = parent as YType;
  }
  return null;
}

function isNew(tr: Y.Transaction, type: Y.Map<unknown>): boolean {
  const item = type._item;
  return item !== null && item.id.clock >= (tr.beforeState.get(item.id.client) ?? 0);
}

function metadataOf(cell: Y.Map<unknown>): Y.Map<unknown> | null {
  const metadata = cell.get('metadata');
  return metadata instanceof Y.Map ? metadata : null;
}
