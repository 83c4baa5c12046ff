/**
 * The collab content provider: JupyterLab's documents (notebooks, text files) served
 * live through our rooms. Metadata (hash, last_modified) still comes from the drive;
 * the content is the shared model, synced by a `CollabConnection` per document. The
 * documents being served, and their connections, are kept in `live-documents.ts`.
 *
 * No JupyterLab application imports: the plugin passes the drive and settings, and
 * listens to `documentStale` to tell people.
 */
import { DocumentChange, YDocument, YNotebook } from '@jupyter/ydoc';
import { PathExt } from '@jupyterlab/coreutils';
import {
  Contents,
  IContentProvider,
  ServerConnection
} from '@jupyterlab/services';
import { ISignal, Signal } from '@lumino/signaling';

import { DocumentType, ISession, openSession } from '../api';
import {
  CollabConnection,
  ConnectionState,
  ICollabConnectionOptions,
  Role,
  ROLES,
  ServerEvent,
  snapshotSource
} from '../connection';
import { CloseCode } from '../protocol';
import { CellNumbers } from './cell-numbers';
import { CollabSharedModelFactory } from './factory';
import {
  IDocumentConnection,
  ILiveDocument,
  LiveDocuments
} from './live-documents';

/**
 * A document whose history the server no longer holds (`stale`): it must be reloaded,
 * and its local changes can only be kept as a copy.
 */
export interface IStaleDocument {
  readonly path: string;
  readonly type: DocumentType;
  readonly reason: string;
  /** The local content at the time it went stale, or `null`. */
  readonly unsyncedText: string | null;
  /** For a refused change to a notebook: the number of a cell by its id (see ILiveDocument). */
  readonly cellNumber?: (cellId: string) => number | null;
}

/** This person's role on a live document changed (`roleChanged`). */
export interface IRoleChange {
  readonly path: string;
  readonly from: Role;
  readonly to: Role;
}

/**
 * Constructor options of `CollabContentProvider`.
 */
export interface ICollabContentProviderOptions {
  /**
   * The drive that knows the files' metadata (the default drive); its `fileChanged`
   * renames move live documents to their new path.
   */
  readonly drive: Pick<Contents.IDrive, 'get' | 'save'> &
    Partial<Pick<Contents.IDrive, 'fileChanged'>>;
  /** Where the collab server is. */
  readonly serverSettings: ServerConnection.ISettings;
  /** The session call; `openSession` from `api.ts` by default (tests replace it). */
  readonly openSession?: (
    path: string,
    type: DocumentType,
    settings?: ServerConnection.ISettings
  ) => Promise<ISession>;
  /** Builds a connection; a `CollabConnection` by default (tests replace it). */
  readonly connect?: (options: ICollabConnectionOptions) => IDocumentConnection;
}

/**
 * The name of the copy that keeps a stale document's local content.
 */
export function unsyncedCopyPath(path: string, type: DocumentType): string {
  if (type === 'notebook') {
    const ext = PathExt.extname(path);
    return `${path.slice(0, path.length - ext.length)}.unsynced-copy${ext || '.ipynb'}`;
  }
  return `${path}.unsynced-copy.txt`;
}

/**
 * The options without `contentProviderId`: the drive would hand the call back to us.
 */
function restOptions<T extends Contents.IContentProvisionOptions>(
  options: T | undefined
): T | undefined {
  if (options === undefined) {
    return undefined;
  }
  const { contentProviderId: _ignored, ...rest } = options;
  return rest as T;
}

/**
 * A content provider whose shared models are live documents of our server.
 */
export class CollabContentProvider implements IContentProvider {
  constructor(options: ICollabContentProviderOptions) {
    this._drive = options.drive;
    this._serverSettings = options.serverSettings;
    this._openSession = options.openSession ?? openSession;
    this._connect =
      options.connect ?? (connectionOptions => new CollabConnection(connectionOptions));
    this.sharedModelFactory = new CollabSharedModelFactory((model, path, type) =>
      this._serve(model, path, type)
    );
    options.drive.fileChanged?.connect(this._onFileChanged, this);
  }

  /** Creates the live shared models; register document classes on it. */
  readonly sharedModelFactory: CollabSharedModelFactory;

  /** Emits `save` changes after saves (ours or anyone's), with the file's new hash. */
  get fileChanged(): ISignal<this, Contents.IChangedArgs> {
    return this._fileChanged;
  }

  /** Emits when a document becomes stale; see `IStaleDocument`. */
  get documentStale(): ISignal<this, IStaleDocument> {
    return this._documentStale;
  }

  /**
   * Emits when the server refused this client's change (its role does not allow it)
   * and closed the connection: the document must be reloaded to match the room.
   */
  get documentRefused(): ISignal<this, IStaleDocument> {
    return this._documentRefused;
  }

  /**
   * Emits once per change of this person's role on a live document, told by the server
   * (an owner changed a membership, a share link, or the default role). Not on the first
   * role, which comes with the session.
   */
  get roleChanged(): ISignal<this, IRoleChange> {
    return this._roleChanged;
  }

  /** Emits the live document whose connection changed state (or was just made). */
  get documentChanged(): ISignal<this, ILiveDocument> {
    return this._documentChanged;
  }

  /** The live document of a shared model, if this provider made it. */
  documentOf(model: unknown): ILiveDocument | undefined {
    return this._documents.ofModel(model);
  }

  /** The connection of a shared model once it exists, else `null`. */
  connectionOf(model: unknown): IDocumentConnection | null {
    return this._documents.connectionOf(model) ?? null;
  }

  /**
   * Get a file's model. For a live document with content requested, wait until it is
   * synced and return the metadata with `content: null`: the shared model is the
   * content, and a falsy content keeps JupyterLab from loading the file into it.
   */
  async get(
    path: string,
    options?: Contents.IFetchOptions
  ): Promise<Contents.IModel> {
    const live = this._documents.find(path, options?.type);
    if (live === undefined) {
      return this._drive.get(path, restOptions(options));
    }
    if (options?.content === false) {
      return this._checkMetadata(live, options);
    }
    let connection: IDocumentConnection;
    try {
      connection = await live.connection;
    } catch {
      // No room for it (the session call failed): serve it from the drive, unshared.
      this._documents.forget(live);
      return this._drive.get(path, restOptions(options));
    }
    await connection.whenSynced();
    const model = await this._metadata(path);
    this._hashes.set(live, model.hash);
    return { ...model, content: null };
  }

  /**
   * Save a file. A live document asks its room to write it, then returns the file's
   * metadata (with its hash) and emits `fileChanged`.
   */
  async save(
    path: string,
    options: Partial<Contents.IModel> & Contents.IContentProvisionOptions = {}
  ): Promise<Contents.IModel> {
    const live = this._documents.find(path, options.type);
    if (live === undefined) {
      return this._drive.save(path, restOptions(options));
    }
    const connection = await live.connection;
    await connection.requestSave();
    return this._announceSave(live);
  }

  /**
   * Keep a stale document's local content next to it, through the drive.
   *
   * Returns:
   *   The copy's path.
   */
  async saveCopy(document: IStaleDocument): Promise<string> {
    const path = unsyncedCopyPath(document.path, document.type);
    await this._drive.save(path, {
      type: 'file',
      format: 'text',
      content: document.unsyncedText ?? ''
    });
    return path;
  }

  /** Whether `dispose()` ran. */
  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /** Close every connection. */
  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this._documents.clear();
    Signal.clearData(this);
  }

  private _serve(
    model: YDocument<DocumentChange>,
    path: string,
    type: DocumentType
  ): void {
    let resolveConnection!: (c: IDocumentConnection) => void;
    const connection = new Promise<IDocumentConnection>((resolve, reject) => {
      resolveConnection = resolve;
      this._openSession(path, type, this._serverSettings).then(session => {
        if (model.isDisposed || this._isDisposed) {
          reject(new Error(`${path} was closed before it connected.`));
          return;
        }
        const made = this._connect({
          session,
          ydoc: model.ydoc,
          awareness: model.awareness,
          serverSettings: this._serverSettings,
          snapshot:
            type === 'notebook'
              ? () => JSON.stringify((model as YNotebook).toJSON(), null, 1)
              : snapshotSource
        });
        live.role = (ROLES as readonly string[]).includes(session.role)
          ? (session.role as Role)
          : 'viewer'; // an unknown role from a newer server: the safest reading
        live.canExecute = session.can_execute;
        this._documents.setConnection(live, made);
        made.stateChanged.connect((_, state) => this._onState(live, state));
        made.eventReceived.connect((_, event) => this._onEvent(live, event));
        resolveConnection(made);
        this._documentChanged.emit(live);
      }, reject);
    });
    // The context reports a failed session call (get rejects); avoid unhandled noise.
    connection.catch(error =>
      console.warn(`jupyter-collab: ${path} is not live:`, error)
    );
    const numbers =
      type === 'notebook' ? new CellNumbers(model.ydoc.getArray('cells')) : null;
    const live: ILiveDocument = {
      path,
      type,
      model,
      connection,
      role: null,
      canExecute: true,
      locked: new Set(),
      cellNumber: cellId => numbers?.numberOf(cellId) ?? null
    };
    this._documents.add(live);
    model.disposed.connect(() => {
      numbers?.dispose();
      this._documents.forget(live);
    });
  }

  /**
   * A rename through the drive (of the file or a folder above it): the room followed
   * it on the server (same doc id, same connection), so only the path moves here.
   * Without this, saves to the new path would miss the live document.
   */
  private _onFileChanged(_: unknown, change: Contents.IChangedArgs): void {
    const from = change.oldValue?.path;
    const to = change.newValue?.path;
    if (change.type !== 'rename' || !from || !to) {
      return;
    }
    this._documents
      .move(from, to)
      .forEach(live => this._documentChanged.emit(live));
  }

  private _onState(live: ILiveDocument, state: ConnectionState): void {
    this._documentChanged.emit(live);
    if (state.status === 'closed' && state.code === CloseCode.FORBIDDEN) {
      this._documentRefused.emit({
        path: live.path,
        type: live.type,
        reason: state.serverReason || state.reason,
        unsyncedText: null,
        cellNumber: live.cellNumber
      });
    }
    if (state.status === 'stale') {
      const connection = this._documents.connectionOf(live.model);
      this._documentStale.emit({
        path: live.path,
        type: live.type,
        reason: state.reason,
        unsyncedText: connection?.unsyncedText() ?? null
      });
    }
  }

  private _onEvent(live: ILiveDocument, event: ServerEvent): void {
    if (event.type === 'role') {
      const before = live.role;
      live.role = event.role;
      this._documentChanged.emit(live);
      if (before !== null && before !== event.role) {
        this._roleChanged.emit({ path: live.path, from: before, to: event.role });
      }
      return;
    }
    if (event.type === 'locks') {
      live.locked = new Set(event.cells);
      this._documentChanged.emit(live);
      return;
    }
    if (event.type === 'renamed' && event.path !== live.path) {
      // Someone else renamed it: tell this JupyterLab as its own rename would, so the
      // tab, the context and the file browser follow (and our map, in _onFileChanged).
      void this._announceRename(live.path, event.path);
      return;
    }
    if (event.type === 'saved' && event.id === null) {
      // Someone's save, or the server's own: the file on disk now matches the room.
      this._announceSave(live).catch(error =>
        console.warn(`jupyter-collab: could not refresh ${live.path}:`, error)
      );
    }
  }

  private async _announceRename(from: string, to: string): Promise<void> {
    let model: Partial<Contents.IModel> = { path: to };
    try {
      model = await this._metadata(to);
    } catch {
      // the bare path is enough for the context to follow
    }
    const signal = this._drive.fileChanged;
    const change: Contents.IChangedArgs = {
      type: 'rename',
      oldValue: { path: from },
      newValue: model
    };
    if (signal instanceof Signal) {
      signal.emit(change); // the drive's own signal: every listener hears the rename
    } else {
      this._onFileChanged(this, change);
    }
  }

  private async _announceSave(live: ILiveDocument): Promise<Contents.IModel> {
    const model = await this._metadata(live.path);
    if (!live.model.isDisposed) {
      live.model.dirty = false;
    }
    this._hashes.set(live, model.hash);
    this._fileChanged.emit({ type: 'save', oldValue: null, newValue: model });
    return model;
  }

  /**
   * Metadata asked without content: JupyterLab does so before a save, to warn when the
   * file changed on disk. The room merges outside changes into the live document, so
   * that warning does not apply: a new hash is announced (`fileChanged`) before it is
   * returned, which keeps the "File Changed" dialog away.
   */
  private async _checkMetadata(
    live: ILiveDocument,
    options: Contents.IFetchOptions
  ): Promise<Contents.IModel> {
    const model = await this._drive.get(live.path, restOptions(options));
    const connection = this._documents.connectionOf(live.model);
    const synced =
      connection?.state.status === 'connected' && connection.state.synced;
    if (synced && options.hash && model.hash !== this._hashes.get(live)) {
      this._hashes.set(live, model.hash);
      this._fileChanged.emit({ type: 'save', oldValue: null, newValue: model });
    }
    return model;
  }

  private _metadata(path: string): Promise<Contents.IModel> {
    return this._drive.get(path, { content: false, hash: true });
  }

  private readonly _drive: ICollabContentProviderOptions['drive'];
  private readonly _serverSettings: ServerConnection.ISettings;
  private readonly _openSession: NonNullable<
    ICollabContentProviderOptions['openSession']
  >;
  private readonly _connect: NonNullable<ICollabContentProviderOptions['connect']>;
  private readonly _documents = new LiveDocuments();
  /** The last hash each live document's context was given. */
  private readonly _hashes = new WeakMap<ILiveDocument, string | undefined>();
  private _isDisposed = false;
  private readonly _fileChanged = new Signal<this, Contents.IChangedArgs>(this);
  private readonly _documentStale = new Signal<this, IStaleDocument>(this);
  private readonly _documentRefused = new Signal<this, IStaleDocument>(this);
  private readonly _documentChanged = new Signal<this, ILiveDocument>(this);
  private readonly _roleChanged = new Signal<this, IRoleChange>(this);
}
