/**
 * Shared by the provider*.spec.ts tests: a content provider built on a fake drive and
 * fake connections the test drives (state, events, save answers). Not a test file
 * itself (jest runs only *.spec.ts).
 */
import { YFile, YNotebook } from '@jupyter/ydoc';
import { Contents, ServerConnection } from '@jupyterlab/services';
import { Signal } from '@lumino/signaling';

import { DocumentType, ISession } from '../api';
import {
  ConnectionState,
  ICollabConnectionOptions,
  ICommentRequest,
  IRunRequest,
  ISavedEvent,
  ServerEvent
} from '../connection';
import { CollabContentProvider, IDocumentConnection } from '../provider';

export const settings = ServerConnection.makeSettings({
  baseUrl: 'http://localhost:8888/',
  wsUrl: 'ws://localhost:8888/'
});

export function sessionFor(path: string, type: DocumentType): ISession {
  return {
    doc_id: `id-${path}`,
    room: `api/collab/room/id-${path}`,
    epoch: '0123456789abcdef',
    role: 'owner',
    can_execute: true,
    path,
    type
  };
}

/** A connection the test drives: state, events and save answers. */
export class FakeConnection implements IDocumentConnection {
  constructor(readonly options: ICollabConnectionOptions) {}

  state: ConnectionState = { status: 'connecting' };
  readonly stateChanged = new Signal<this, ConnectionState>(this);
  readonly eventReceived = new Signal<this, ServerEvent>(this);
  saves = 0;
  disposed = false;
  text: string | null = 'local text';

  setState(state: ConnectionState): void {
    this.state = state;
    this.stateChanged.emit(state);
  }

  locks: [string, boolean][] = [];

  requestLock(cellId: string, locked: boolean): boolean {
    this.locks.push([cellId, locked]);
    return true;
  }

  comments: ICommentRequest[] = [];

  requestComment(request: ICommentRequest): boolean {
    this.comments.push(request);
    return true;
  }

  runs: Omit<IRunRequest, 'type'>[] = [];

  reportRun(request: Omit<IRunRequest, 'type'>): boolean {
    this.runs.push(request);
    return true;
  }

  presents: [boolean, boolean][] = [];

  requestPresent(on: boolean, hold = false): boolean {
    this.presents.push([on, hold]);
    return true;
  }

  whenSynced(): Promise<void> {
    if (this.state.status === 'connected' && this.state.synced) {
      return Promise.resolve();
    }
    return new Promise(resolve => {
      const listener = (_: unknown, state: ConnectionState): void => {
        if (state.status === 'connected' && state.synced) {
          this.stateChanged.disconnect(listener);
          resolve();
        }
      };
      this.stateChanged.connect(listener);
    });
  }

  requestSave(): Promise<ISavedEvent> {
    this.saves++;
    return Promise.resolve({
      type: 'saved',
      id: `save-${this.saves}`,
      path: this.options.session.path,
      fingerprint: 'f'
    });
  }

  unsyncedText(): string | null {
    return this.state.status === 'stale' ? this.text : null;
  }

  dispose(): void {
    this.disposed = true;
  }
}

/** A drive that answers with a fixed metadata model and records calls. */
export function fakeDrive(hash = 'h1') {
  const calls: { method: string; path: string; options: any }[] = [];
  const state = { hash };
  const drive = {
    get hash(): string {
      return state.hash;
    },
    set hash(value: string) {
      state.hash = value;
    },
    calls,
    get: jest.fn(async (path: string, options?: Contents.IFetchOptions): Promise<Contents.IModel> => {
      calls.push({ method: 'get', path, options });
      return {
        name: path,
        path,
        type: path.endsWith('.ipynb') ? 'notebook' : 'file',
        writable: true,
        created: '',
        last_modified: '2026-01-01T00:00:00Z',
        mimetype: '',
        format: options?.content === false ? null : 'text',
        content: options?.content === false ? null : 'disk content',
        hash: state.hash,
        hash_algorithm: 'sha256'
      } as Contents.IModel;
    }),
    save: jest.fn(async (path: string, options?: Partial<Contents.IModel>) => {
      calls.push({ method: 'save', path, options });
      return { path, name: path } as Contents.IModel;
    }),
    fileChanged: new Signal<any, Contents.IChangedArgs>({})
  };
  return drive;
}

export interface ISetup {
  provider: CollabContentProvider;
  drive: ReturnType<typeof fakeDrive>;
  connections: FakeConnection[];
  sessions: { path: string; type: DocumentType }[];
}

export function setup(openSession?: (path: string, type: DocumentType) => Promise<ISession>): ISetup {
  const drive = fakeDrive();
  const connections: FakeConnection[] = [];
  const sessions: { path: string; type: DocumentType }[] = [];
  const provider = new CollabContentProvider({
    drive,
    serverSettings: settings,
    openSession:
      openSession ??
      (async (path, type) => {
        sessions.push({ path, type });
        return sessionFor(path, type);
      }),
    connect: options => {
      const connection = new FakeConnection(options);
      connections.push(connection);
      return connection;
    }
  });
  provider.sharedModelFactory.registerDocumentFactory('notebook', () => new YNotebook());
  provider.sharedModelFactory.registerDocumentFactory('file', () => new YFile());
  return { provider, drive, connections, sessions };
}

export function openLive(
  s: ISetup,
  path: string,
  contentType: Contents.ContentType = 'file'
): YFile | YNotebook {
  const model = s.provider.sharedModelFactory.createNew({
    path,
    format: contentType === 'notebook' ? 'json' : 'text',
    contentType,
    collaborative: true
  });
  if (!model) {
    throw new Error('no model');
  }
  return model as YFile | YNotebook;
}

export const flush = (): Promise<void> => new Promise(resolve => setTimeout(resolve, 0));

export const SYNCED: ConnectionState = { status: 'connected', synced: true };
