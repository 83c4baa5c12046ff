/**
 * The history calls (docs/PROTOCOL.md, "History") on `api/collab/history/{path}`, each
 * answer narrowed by `model.ts`. As one object, so the panel can be given another.
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

import { requestAPI } from '../api';
import {
  IComparison,
  IHistory,
  IPreview,
  IVersion,
  toComparison,
  toHistory,
  toPreview,
  toVersion
} from './model';

/**
 * What the History panel asks the server. Each call rejects with
 * ServerConnection.NetworkError, ResponseError (the server's reason: 403 for a role that
 * may not, 404 for an unknown version or cell, 400 for a bad name), or TypeError when the
 * answer does not have the expected shape.
 */
export interface IHistoryAPI {
  /** The versions of `path` and the size of its history. */
  list(path: string): Promise<IHistory>;
  /** What `path` was at version `version`. */
  preview(path: string, version: number): Promise<IPreview>;
  /** What changed from version `from` to `to` (`current`: the document now). */
  compare(path: string, from: number, to: number | 'current'): Promise<IComparison>;
  /** Name the document as it is now. */
  name(path: string, name: string): Promise<IVersion>;
  /** Put version `version` back (only its cell `cell` when given). */
  restore(path: string, version: number, cell?: string): Promise<IVersion>;
}

/** The history calls against a server. */
export function historyAPI(settings?: ServerConnection.ISettings): IHistoryAPI {
  const at = (path: string, query: Record<string, string | number> = {}) =>
    URLExt.join('history', URLExt.encodeParts(path.replace(/^\/+/, ''))) +
    (Object.keys(query).length > 0 ? URLExt.objectToQueryString(query) : '');
  const post = async (path: string, body: Record<string, unknown>): Promise<IVersion> => {
    const answer = await requestAPI<unknown>(
      at(path),
      { method: 'POST', body: JSON.stringify(body) },
      settings
    );
    return toVersion((answer as { version?: unknown } | null)?.version);
  };
  return {
    list: async path => toHistory(await requestAPI<unknown>(at(path), {}, settings)),
    preview: async (path, version) =>
      toPreview(await requestAPI<unknown>(at(path, { version }), {}, settings)),
    compare: async (path, from, to) =>
      toComparison(await requestAPI<unknown>(at(path, { from, to }), {}, settings)),
    name: (path, name) => post(path, { type: 'version.name', name }),
    restore: (path, version, cell) =>
      post(path, cell === undefined
        ? { type: 'version.restore', version }
        : { type: 'version.restore', version, cell })
  };
}
