/**
 * The live documents a provider serves: one per shared model it made, found by model or
 * by path, with the document's connection once it exists.
 *
 * A path may hold several live documents (a notebook open as a notebook and as a file).
 * A rename moves them to the new path; forgetting one disposes its connection. No
 * signals here: the provider says what changed.
 */
import { DocumentChange, YDocument } from '@jupyter/ydoc';
import { Contents } from '@jupyterlab/services';
import { ISignal } from '@lumino/signaling';

import { DocumentType } from '../api';
import {
  ConnectionState,
  ICommentRequest,
  IRunRequest,
  ISavedEvent,
  Role,
  ServerEvent
} from '../connection';
import { documentTypeOf } from './factory';

/**
 * What the provider needs of a connection (`CollabConnection` has it all).
 */
export interface IDocumentConnection {
  readonly state: ConnectionState;
  readonly stateChanged: ISignal<any, ConnectionState>;
  readonly eventReceived: ISignal<any, ServerEvent>;
  whenSynced(): Promise<void>;
  requestSave(): Promise<ISavedEvent>;
  requestLock(cellId: string, locked: boolean): boolean;
  requestComment(request: ICommentRequest): boolean;
  reportRun(request: Omit<IRunRequest, 'type'>): boolean;
  requestPresent(on: boolean, hold?: boolean): boolean;
  unsyncedText(): string | null;
  dispose(): void;
}

/**
 * A shared model served live, and its connection once the session call answered.
 */
export interface ILiveDocument {
  /** The document's path; follows renames made through the drive. */
  path: string;
  readonly type: DocumentType;
  readonly model: YDocument<DocumentChange>;
  /**
   * This user's role on the document: from the session answer, then from `role`
   * events; `null` until the session call answered.
   */
  role: Role | null;
  /** Whether this user may start kernels here (from the session answer). */
  canExecute: boolean;
  /** The ids of the notebook's locked cells (from `locks` events). */
  locked: ReadonlySet<string>;
  /**
   * The number (1-based) of a notebook's cell, or where it last was if it is gone;
   * `null` for an unknown id or a text file.
   */
  cellNumber(cellId: string): number | null;
  /** The connection; rejects when the session call fails. */
  readonly connection: Promise<IDocumentConnection>;
}

/**
 * The live documents of one provider, by model and by path.
 */
export class LiveDocuments {
  /** Add a document just served. */
  add(live: ILiveDocument): void {
    this._byModel.set(live.model, live);
    this._byPath.set(live.path, [...(this._byPath.get(live.path) ?? []), live]);
  }

  /** The live document of a shared model, if it is one of ours. */
  ofModel(model: unknown): ILiveDocument | undefined {
    return this._byModel.get(model as YDocument<DocumentChange>);
  }

  /** The live document of `path` opened as `contentType` (any type when omitted). */
  find(path: string, contentType?: Contents.ContentType): ILiveDocument | undefined {
    const type = contentType === undefined ? undefined : documentTypeOf(contentType);
    return this._byPath
      .get(path)
      ?.find(live => type === undefined || live.type === type);
  }

  /** The connection of a shared model once it exists, else `undefined`. */
  connectionOf(model: unknown): IDocumentConnection | undefined {
    return this._connections.get(model as YDocument<DocumentChange>);
  }

  /** Record the connection a document's session call led to. */
  setConnection(live: ILiveDocument, connection: IDocumentConnection): void {
    this._connections.set(live.model, connection);
  }

  /** Drop a document (closed, or not live after all); its connection is disposed. */
  forget(live: ILiveDocument): void {
    this._connections.get(live.model)?.dispose();
    this._connections.delete(live.model);
    this._byModel.delete(live.model);
    const others = (this._byPath.get(live.path) ?? []).filter(d => d !== live);
    if (others.length > 0) {
      this._byPath.set(live.path, others);
    } else {
      this._byPath.delete(live.path);
    }
  }

  /**
   * Follow a rename of `from` (a file, or a folder above documents) to `to`: every
   * document at or under `from` gets its new path.
   *
   * Returns:
   *   The documents moved.
   */
  move(from: string, to: string): ILiveDocument[] {
    const moved: ILiveDocument[] = [];
    for (const [path, lives] of [...this._byPath]) {
      if (path !== from && !path.startsWith(`${from}/`)) {
        continue;
      }
      const newPath = to + path.slice(from.length);
      this._byPath.delete(path);
      lives.forEach(live => (live.path = newPath));
      this._byPath.set(newPath, [...(this._byPath.get(newPath) ?? []), ...lives]);
      moved.push(...lives);
    }
    return moved;
  }

  /** Dispose every connection and forget every document. */
  clear(): void {
    this._connections.forEach(connection => connection.dispose());
    this._connections.clear();
    this._byModel.clear();
    this._byPath.clear();
  }

  /** The live documents of each path: a notebook may be open as a file too. */
  private readonly _byPath = new Map<string, ILiveDocument[]>();
  private readonly _byModel = new Map<YDocument<DocumentChange>, ILiveDocument>();
  private readonly _connections = new Map<
    YDocument<DocumentChange>,
    IDocumentConnection
  >();
}
