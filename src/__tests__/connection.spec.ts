import { ServerConnection } from '@jupyterlab/services';
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import * as syncProtocol from 'y-protocols/sync';
import * as Y from 'yjs';

import { ISession, openSession, requestAPI, toSession } from '../api';
import {
  CollabConnection,
  ConnectionInput,
  ConnectionState,
  decodeEventMessage,
  describeCloseCode,
  encodeEvent,
  INITIAL_STATE,
  ISavedEvent,
  nextState,
  OFFLINE_AFTER_ATTEMPTS,
  roomAddress,
  SaveError,
  ServerEvent
} from '../connection';
import { CloseCode, MessageKind } from '../protocol';

// ---------------------------------------------------------------------------
// Helpers

/** Frame an event the way the server does: varUint(4) varString(compact JSON). */
function serverEvent(event: object): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, MessageKind.EVENT);
  encoding.writeVarString(encoder, JSON.stringify(event));
  return encoding.toUint8Array(encoder);
}

function syncMessage(write: (encoder: encoding.Encoder) => void): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, MessageKind.SYNC);
  write(encoder);
  return encoding.toUint8Array(encoder);
}

/**
 * A WebSocket stand-in that records what the client sends and lets the test play the
 * server. No network.
 */
class FakeSocket {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSING = 2;
  static readonly CLOSED = 3;
  static instances: FakeSocket[] = [];

  readonly CONNECTING = 0;
  readonly OPEN = 1;
  readonly CLOSING = 2;
  readonly CLOSED = 3;

  constructor(url: string) {
    this.url = url;
    FakeSocket.instances.push(this);
  }

  readonly url: string;
  readyState = 0;
  binaryType = 'blob';
  sent: Uint8Array[] = [];
  onopen: ((event: unknown) => void) | null = null;
  onmessage: ((event: { data: ArrayBuffer }) => void) | null = null;
  onclose: ((event: { code: number; reason: string }) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;

  send(data: Uint8Array): void {
    this.sent.push(new Uint8Array(data));
  }

  close(): void {
    this.readyState = this.CLOSED;
  }

  /** The server accepts the connection. */
  open(): void {
    this.readyState = this.OPEN;
    this.onopen?.({});
  }

  /** The server sends one binary message. */
  receive(message: Uint8Array): void {
    this.onmessage?.({ data: message.slice().buffer });
  }

  /** The server (or the network) closes the connection. */
  serverClose(code: number, reason = ''): void {
    this.readyState = this.CLOSED;
    this.onclose?.({ code, reason });
  }

  /** The client events (kind 4) sent so far, decoded. */
  sentEvents(): unknown[] {
    return this.sent
      .filter(message => message[0] === MessageKind.EVENT)
      .map(message => {
        const decoder = decoding.createDecoder(message);
        decoding.readVarUint(decoder);
        return JSON.parse(decoding.readVarString(decoder));
      });
  }
}

const SESSION: ISession = {
  doc_id: '4baa07b3-0a51-4b9f-8fec-c31389fffa85',
  room: 'api/collab/room/4baa07b3-0a51-4b9f-8fec-c31389fffa85',
  epoch: '9e974086be654216',
  role: 'owner',
  can_execute: true,
  path: 'notes.txt',
  type: 'file'
};

function makeSettings(
  overrides: Partial<ServerConnection.ISettings> = {}
): ServerConnection.ISettings {
  return ServerConnection.makeSettings({
    baseUrl: 'http://localhost:8888/lab-base/',
    wsUrl: 'ws://localhost:8888/lab-base/',
    token: '',
    appendToken: false,
    WebSocket: FakeSocket as unknown as typeof WebSocket,
    ...overrides
  });
}

interface IHarness {
  connection: CollabConnection;
  socket: FakeSocket;
  server: Y.Doc;
  states: ConnectionState[];
  events: ServerEvent[];
}

function makeConnection(
  options: { saveTimeoutMs?: number; ydoc?: Y.Doc; role?: string } = {}
): IHarness {
  const ydoc = options.ydoc ?? new Y.Doc();
  const connection = new CollabConnection({
    session: { ...SESSION, role: options.role ?? SESSION.role },
    ydoc,
    serverSettings: makeSettings(),
    saveTimeoutMs: options.saveTimeoutMs
  });
  const states: ConnectionState[] = [];
  const events: ServerEvent[] = [];
  connection.stateChanged.connect((_, state) => states.push(state));
  connection.eventReceived.connect((_, event) => events.push(event));
  const socket = FakeSocket.instances[FakeSocket.instances.length - 1];
  return { connection, socket, server: new Y.Doc(), states, events };
}

/** Play the server's side of the handshake: step 1, then step 2 for the client. */
function handshake(harness: IHarness): void {
  const { socket, server } = harness;
  socket.open();
  socket.receive(
    syncMessage(encoder => syncProtocol.writeSyncStep1(encoder, server))
  );
  socket.receive(
    syncMessage(encoder => syncProtocol.writeSyncStep2(encoder, server))
  );
}

const open: Record<string, ConnectionState> = {
  connecting: INITIAL_STATE,
  connected: { status: 'connected', synced: false },
  synced: { status: 'connected', synced: true },
  reconnecting1: { status: 'reconnecting', attempts: 1 },
  reconnecting2: { status: 'reconnecting', attempts: 2 },
  offline3: { status: 'offline', attempts: 3 }
};
const stale: ConnectionState = {
  status: 'stale',
  epoch: 'abcdef0123456789',
  docId: null,
  reason: 'Your copy is from another history.'
};
const forbidden: ConnectionState = {
  status: 'closed',
  code: 4403,
  reason: describeCloseCode(4403),
  serverReason: 'no'
};

afterEach(() => {
  FakeSocket.instances = [];
  jest.useRealTimers();
});

// ---------------------------------------------------------------------------
// The state machine

describe('nextState', () => {
  const table: [string, ConnectionState, ConnectionInput, ConnectionState][] = [
    [
      'an opened socket is connected, not yet synced',
      open.connecting,
      { type: 'status', status: 'connected' },
      open.connected
    ],
    [
      "the server's step 2 makes it synced",
      open.connected,
      { type: 'sync', synced: true },
      open.synced
    ],
    [
      'a sync event while not connected changes nothing',
      open.reconnecting1,
      { type: 'sync', synced: true },
      open.reconnecting1
    ],
    [
      'each retry announcing itself as connecting changes nothing',
      open.reconnecting1,
      { type: 'status', status: 'connecting' },
      open.reconnecting1
    ],
    [
      'disconnected (after connection-close) changes nothing',
      open.reconnecting1,
      { type: 'status', status: 'disconnected' },
      open.reconnecting1
    ],
    [
      'a dropped connection is reconnecting',
      open.synced,
      { type: 'connection-close', code: 1006, reason: '' },
      open.reconnecting1
    ],
    [
      'the watchdog closing locally is reconnecting',
      open.synced,
      { type: 'connection-close', code: null, reason: '' },
      open.reconnecting1
    ],
    [
      'a server going away (1001) is reconnecting',
      open.connected,
      { type: 'connection-close', code: 1001, reason: '' },
      open.reconnecting1
    ],
    [
      '4500 is transient: reconnecting',
      open.connecting,
      { type: 'connection-close', code: CloseCode.INTERNAL, reason: '' },
      open.reconnecting1
    ],
    [
      'failed attempts are counted',
      open.reconnecting1,
      { type: 'connection-close', code: 1006, reason: '' },
      open.reconnecting2
    ],
    [
      `the ${OFFLINE_AFTER_ATTEMPTS}rd failed attempt is offline`,
      open.reconnecting2,
      { type: 'connection-close', code: 1006, reason: '' },
      open.offline3
    ],
    [
      'offline stays offline while attempts fail',
      open.offline3,
      { type: 'connection-close', code: 1006, reason: '' },
      { status: 'offline', attempts: 4 }
    ],
    [
      'a connection after being offline is connected',
      open.offline3,
      { type: 'status', status: 'connected' },
      open.connected
    ],
    [
      'the browser going offline is offline',
      open.synced,
      { type: 'network', online: false },
      { status: 'offline', attempts: 0 }
    ],
    [
      'the browser coming back is reconnecting',
      open.offline3,
      { type: 'network', online: true },
      { status: 'reconnecting', attempts: 3 }
    ],
    [
      'the browser coming back while connected changes nothing',
      open.synced,
      { type: 'network', online: true },
      open.synced
    ],
    [
      'a reload event is stale, with its epoch and reason',
      open.connected,
      {
        type: 'reload',
        epoch: 'abcdef0123456789',
        docId: null,
        reason: 'Your copy is from another history.'
      },
      stale
    ],
    [
      'a reload without a reason gets one',
      open.connected,
      { type: 'reload', epoch: null, docId: 'new-id', reason: '' },
      {
        status: 'stale',
        epoch: null,
        docId: 'new-id',
        reason: describeCloseCode(CloseCode.STALE_EPOCH)
      }
    ],
    [
      'a 4409 close without a reload event is stale too',
      open.connected,
      { type: 'connection-close', code: 4409, reason: 'stale epoch' },
      {
        status: 'stale',
        epoch: null,
        docId: null,
        reason: describeCloseCode(4409)
      }
    ],
    [
      'a 4403 close is closed, terminal',
      open.connected,
      { type: 'connection-close', code: 4403, reason: 'no' },
      forbidden
    ],
    [
      "y-websocket's closed event is closed",
      open.reconnecting1,
      { type: 'closed', code: 4410, reason: 'gone' },
      {
        status: 'closed',
        code: 4410,
        reason: describeCloseCode(4410),
        serverReason: 'gone'
      }
    ],
    [
      'dispose is closed with 1000',
      open.synced,
      { type: 'dispose' },
      {
        status: 'closed',
        code: 1000,
        reason: describeCloseCode(1000),
        serverReason: ''
      }
    ],
    [
      'stale ignores the 4409 close that follows the reload',
      stale,
      { type: 'connection-close', code: 4409, reason: '' },
      stale
    ],
    [
      'stale ignores y-websocket closed',
      stale,
      { type: 'closed', code: 4409, reason: '' },
      stale
    ],
    [
      'stale ignores a reconnect',
      stale,
      { type: 'status', status: 'connected' },
      stale
    ],
    ['stale survives dispose', stale, { type: 'dispose' }, stale],
    [
      'closed ignores the network',
      forbidden,
      { type: 'network', online: true },
      forbidden
    ]
  ];

  it.each(table)('%s', (_name, from, input, expected) => {
    expect(nextState(from, input)).toEqual(expected);
  });

  it('returns the same object when nothing changes', () => {
    const state = open.synced;

    expect(nextState(state, { type: 'sync', synced: true })).toBe(state);
    expect(nextState(state, { type: 'status', status: 'connected' })).toBe(
      state
    );
  });

  it.each([
    [4400, /rejected a message/],
    [4403, /not allowed/],
    [4404, /no longer exists/],
    [4410, /deleted/],
    [4408, /timed out/],
    [4409, /reload/],
    [4413, /too large/],
    [4999, /code 4999/]
  ])('describes close code %i for people', (code, pattern) => {
    expect(describeCloseCode(code)).toMatch(pattern);
  });
});

// ---------------------------------------------------------------------------
// Events

describe('event decoding', () => {
  it('reads a saved event encoded as the server does', () => {
    const message = serverEvent({
      type: 'saved',
      id: 'save-1',
      path: 'notes.txt',
      fingerprint: '2026-11-26T06:00:00Z|12'
    });

    expect(decodeEventMessage(message)).toEqual({
      type: 'saved',
      id: 'save-1',
      path: 'notes.txt',
      fingerprint: '2026-11-26T06:00:00Z|12'
    });
  });

  it('reads a broadcast saved event with a null id', () => {
    const event = decodeEventMessage(
      serverEvent({ type: 'saved', id: null, path: 'a.txt', fingerprint: 'f' })
    );

    expect(event).toMatchObject({ type: 'saved', id: null });
  });

  it('reads a reload event with and without a new doc id', () => {
    expect(
      decodeEventMessage(
        serverEvent({ type: 'reload', epoch: 'e1', reason: 'stale' })
      )
    ).toEqual({ type: 'reload', epoch: 'e1', reason: 'stale' });
    expect(
      decodeEventMessage(
        serverEvent({ type: 'reload', epoch: null, doc_id: 'd2', reason: 'r' })
      )
    ).toEqual({ type: 'reload', epoch: null, doc_id: 'd2', reason: 'r' });
  });

  it('reads an error event', () => {
    expect(
      decodeEventMessage(
        serverEvent({ type: 'error', id: 7, reason: 'save failed: disk full' })
      )
    ).toEqual({ type: 'error', id: 7, reason: 'save failed: disk full' });
  });

  it('reads a locks event', () => {
    expect(decodeEventMessage(serverEvent({ type: 'locks', cells: ['c1'] }))).toEqual({
      type: 'locks',
      cells: ['c1']
    });
  });

  it('reads a role event', () => {
    expect(decodeEventMessage(serverEvent({ type: 'role', role: 'viewer' }))).toEqual({
      type: 'role',
      role: 'viewer'
    });
  });

  it('reads a renamed event', () => {
    expect(
      decodeEventMessage(serverEvent({ type: 'renamed', path: 'course/w1.ipynb' }))
    ).toEqual({ type: 'renamed', path: 'course/w1.ipynb' });
  });

  it('counts string lengths in UTF-8 bytes, as the server does', () => {
    const path = 'données/日本語 ✓.txt';

    const event = decodeEventMessage(
      serverEvent({ type: 'saved', id: null, path, fingerprint: 'f' })
    );

    expect(event).toMatchObject({ path });
  });

  it('returns null for an event type this client does not know', () => {
    expect(
      decodeEventMessage(serverEvent({ type: 'comment-added', id: 1 }))
    ).toBeNull();
  });

  it.each([
    ['an array', [1, 2]],
    ['a missing type', { id: 1 }],
    ['a saved event without a path', { type: 'saved', fingerprint: 'f' }],
    ['a reload with a numeric epoch', { type: 'reload', epoch: 3 }],
    ['an error without a reason', { type: 'error', id: 1 }],
    ['a renamed event without a path', { type: 'renamed', path: '' }],
    ['a role event with an unknown role', { type: 'role', role: 'admin' }],
    ['a locks event with a non-string cell', { type: 'locks', cells: [1] }]
  ])('rejects %s', (_name, value) => {
    expect(() => decodeEventMessage(serverEvent(value))).toThrow(TypeError);
  });

  it('rejects a message of another kind', () => {
    expect(() => decodeEventMessage(new Uint8Array([0, 0, 0]))).toThrow(
      TypeError
    );
  });

  it('encodes a save request as varUint(4) varString(JSON)', () => {
    const bytes = encodeEvent({ type: 'save', id: 'x' });

    const expected = serverEvent({ type: 'save', id: 'x' });
    expect(Array.from(bytes)).toEqual(Array.from(expected));
    expect(bytes[0]).toBe(4);
  });
});

// ---------------------------------------------------------------------------
// Addressing

describe('roomAddress', () => {
  it('splits the room path into y-websocket server url and room name', () => {
    const address = roomAddress(SESSION, {
      wsUrl: 'ws://localhost:8888/lab-base/',
      token: 'secret',
      appendToken: false
    });

    expect(address).toEqual({
      serverUrl: 'ws://localhost:8888/lab-base/api/collab/room',
      roomname: SESSION.doc_id,
      params: { epoch: SESSION.epoch }
    });
  });

  it('adds the token only when the settings append it', () => {
    const address = roomAddress(SESSION, {
      wsUrl: 'wss://hub.example/user/a/',
      token: 'secret',
      appendToken: true
    });

    expect(address.params).toEqual({ epoch: SESSION.epoch, token: 'secret' });
  });

  it('adds no empty token', () => {
    const address = roomAddress(SESSION, {
      wsUrl: 'ws://h/',
      token: '',
      appendToken: true
    });

    expect(address.params).toEqual({ epoch: SESSION.epoch });
  });

  it('gives the provider the URL of docs/PROTOCOL.md', () => {
    const harness = makeConnection();

    expect(harness.socket.url).toBe(
      `ws://localhost:8888/lab-base/api/collab/room/${SESSION.doc_id}?epoch=${SESSION.epoch}`
    );
    expect(harness.connection.provider.url).toBe(harness.socket.url);
    expect(harness.connection.provider.disableBc).toBe(true);
    harness.connection.dispose();
  });

  it('passes the token as a query parameter when appendToken is set', () => {
    const connection = new CollabConnection({
      session: SESSION,
      ydoc: new Y.Doc(),
      serverSettings: makeSettings({ token: 't0k', appendToken: true })
    });

    expect(FakeSocket.instances[0].url).toMatch(/\?epoch=9e974086be654216&token=t0k$/);
    connection.dispose();
  });
});

// ---------------------------------------------------------------------------
// The connection

describe('CollabConnection', () => {
  it('goes connecting, connected, synced through the handshake', async () => {
    const harness = makeConnection();
    harness.server.getText('source').insert(0, 'from the server');
    expect(harness.connection.state).toEqual({ status: 'connecting' });

    handshake(harness);

    expect(harness.states).toEqual([
      { status: 'connected', synced: false },
      { status: 'connected', synced: true }
    ]);
    expect(harness.connection.ydoc.getText('source').toString()).toBe(
      'from the server'
    );
    await expect(harness.connection.whenSynced()).resolves.toBeUndefined();
    harness.connection.dispose();
  });

  it('emits the events the server sends', () => {
    const harness = makeConnection();
    handshake(harness);

    harness.socket.receive(
      serverEvent({ type: 'saved', id: null, path: 'notes.txt', fingerprint: 'f' })
    );

    expect(harness.events).toEqual([
      { type: 'saved', id: null, path: 'notes.txt', fingerprint: 'f' }
    ]);
    harness.connection.dispose();
  });

  it('ignores a malformed event and keeps the connection', () => {
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    const harness = makeConnection();
    handshake(harness);

    harness.socket.receive(serverEvent({ no: 'type' }));

    expect(warn).toHaveBeenCalled();
    expect(harness.events).toEqual([]);
    expect(harness.connection.state).toEqual({ status: 'connected', synced: true });
    warn.mockRestore();
    harness.connection.dispose();
  });

  describe('requestSave', () => {
    it('sends a save event with an id and resolves on the saved event with that id', async () => {
      const harness = makeConnection();
      handshake(harness);

      const saving = harness.connection.requestSave();
      const [request] = harness.socket.sentEvents() as { type: string; id: string }[];
      harness.socket.receive(
        serverEvent({ type: 'saved', id: null, path: 'notes.txt', fingerprint: 'f1' })
      );
      harness.socket.receive(
        serverEvent({ type: 'saved', id: 'someone-else', path: 'notes.txt', fingerprint: 'f1' })
      );
      harness.socket.receive(
        serverEvent({ type: 'saved', id: request.id, path: 'notes.txt', fingerprint: 'f1' })
      );

      expect(request.type).toBe('save');
      expect(typeof request.id).toBe('string');
      await expect(saving).resolves.toEqual<ISavedEvent>({
        type: 'saved',
        id: request.id,
        path: 'notes.txt',
        fingerprint: 'f1'
      });
      harness.connection.dispose();
    });

    it('matches concurrent requests by id', async () => {
      const harness = makeConnection();
      handshake(harness);

      const first = harness.connection.requestSave();
      const second = harness.connection.requestSave();
      const [a, b] = harness.socket.sentEvents() as { id: string }[];
      harness.socket.receive(
        serverEvent({ type: 'saved', id: b.id, path: 'p', fingerprint: 'second' })
      );
      harness.socket.receive(
        serverEvent({ type: 'saved', id: a.id, path: 'p', fingerprint: 'first' })
      );

      expect(a.id).not.toEqual(b.id);
      await expect(first).resolves.toMatchObject({ fingerprint: 'first' });
      await expect(second).resolves.toMatchObject({ fingerprint: 'second' });
      harness.connection.dispose();
    });

    it('rejects on the error event with its id', async () => {
      const harness = makeConnection();
      handshake(harness);

      const saving = harness.connection.requestSave();
      const [request] = harness.socket.sentEvents() as { id: string }[];
      harness.socket.receive(
        serverEvent({ type: 'error', id: request.id, reason: 'save failed: disk full' })
      );

      await expect(saving).rejects.toThrow(new SaveError('save failed: disk full'));
      harness.connection.dispose();
    });

    it('waits for the sync before sending, so offline edits go first', async () => {
      const harness = makeConnection();
      harness.connection.ydoc.getText('source').insert(0, 'offline edit');

      const saving = harness.connection.requestSave();
      harness.socket.open();
      expect(harness.socket.sentEvents()).toEqual([]);
      harness.socket.receive(
        syncMessage(encoder => syncProtocol.writeSyncStep1(encoder, harness.server))
      );
      harness.socket.receive(
        syncMessage(encoder => syncProtocol.writeSyncStep2(encoder, harness.server))
      );

      const kinds = harness.socket.sent.map(m => [m[0], m[1]]);
      const stepTwo = kinds.findIndex(([kind, sub]) => kind === 0 && sub === 1);
      const save = kinds.findIndex(([kind]) => kind === 4);
      expect(stepTwo).toBeGreaterThanOrEqual(0);
      expect(save).toBeGreaterThan(stepTwo);
      const [request] = harness.socket.sentEvents() as { id: string }[];
      harness.socket.receive(
        serverEvent({ type: 'saved', id: request.id, path: 'p', fingerprint: 'f' })
      );
      await expect(saving).resolves.toMatchObject({ id: request.id });
      harness.connection.dispose();
    });

    it('rejects when the connection drops after the request was sent', async () => {
      const harness = makeConnection();
      handshake(harness);

      const saving = harness.connection.requestSave();
      harness.socket.serverClose(1006);

      await expect(saving).rejects.toThrow(/lost before the server confirmed/);
      expect(harness.connection.state).toEqual({ status: 'reconnecting', attempts: 1 });
      harness.connection.dispose();
    });

    it('rejects when no answer comes in time', async () => {
      jest.useFakeTimers();
      const harness = makeConnection({ saveTimeoutMs: 500 });
      handshake(harness);

      const saving = harness.connection.requestSave();
      jest.advanceTimersByTime(501);

      await expect(saving).rejects.toThrow(/within 500 ms/);
      harness.connection.dispose();
    });

    it('rejects at once when the connection is terminal', async () => {
      const harness = makeConnection();
      handshake(harness);
      harness.socket.serverClose(4403, 'no');

      await expect(harness.connection.requestSave()).rejects.toThrow(
        /not allowed/
      );
      harness.connection.dispose();
    });

    it('rejects pending requests on dispose', async () => {
      const harness = makeConnection();
      const saving = harness.connection.requestSave();

      harness.connection.dispose();

      await expect(saving).rejects.toThrow(/disposed/);
      expect(harness.connection.state).toMatchObject({ status: 'closed', code: 1000 });
    });
  });

  describe('epochs and close codes', () => {
    it('becomes stale on reload, stops reconnecting and offers the local text', async () => {
      jest.useFakeTimers();
      const harness = makeConnection();
      handshake(harness);
      const saving = harness.connection.requestSave();
      harness.connection.ydoc.getText('source').insert(0, 'my unsynced words');

      harness.socket.receive(
        serverEvent({ type: 'reload', epoch: 'ffff000011112222', reason: 'The history changed.' })
      );
      harness.socket.serverClose(CloseCode.STALE_EPOCH, 'stale epoch');
      jest.advanceTimersByTime(10_000);

      expect(harness.connection.state).toEqual({
        status: 'stale',
        epoch: 'ffff000011112222',
        docId: null,
        reason: 'The history changed.'
      });
      expect(harness.events).toMatchObject([{ type: 'reload' }]);
      expect(harness.connection.unsyncedText()).toBe('my unsynced words');
      expect(FakeSocket.instances).toHaveLength(1);
      await expect(saving).rejects.toThrow(/The history changed/);
      await expect(harness.connection.whenSynced()).rejects.toThrow(
        /The history changed/
      );
      harness.connection.dispose();
      expect(harness.connection.state.status).toBe('stale');
    });

    it('offers nothing while the epoch is current', () => {
      const harness = makeConnection();
      handshake(harness);
      harness.connection.ydoc.getText('source').insert(0, 'synced');

      expect(harness.connection.unsyncedText()).toBeNull();
      harness.connection.dispose();
    });

    it('uses the snapshot callback the caller supplies', () => {
      const ydoc = new Y.Doc();
      const connection = new CollabConnection({
        session: { ...SESSION, type: 'notebook' },
        ydoc,
        serverSettings: makeSettings(),
        snapshot: doc => JSON.stringify(doc.getArray('cells').toJSON())
      });
      const socket = FakeSocket.instances[0];
      ydoc.getArray('cells').push(['a cell']);
      socket.open();

      socket.serverClose(CloseCode.STALE_EPOCH);

      expect(connection.state.status).toBe('stale');
      expect(connection.unsyncedText()).toBe('["a cell"]');
      connection.dispose();
    });

    it.each([
      [CloseCode.BAD_MESSAGE, /rejected a message/],
      [CloseCode.FORBIDDEN, /not allowed/],
      [CloseCode.GONE, /deleted/],
      [CloseCode.HANDSHAKE_TIMEOUT, /timed out/],
      [CloseCode.TOO_LARGE, /too large/]
    ])('is closed for good on %i', (code, reason) => {
      jest.useFakeTimers();
      const harness = makeConnection();
      handshake(harness);

      harness.socket.serverClose(code, 'server words');
      jest.advanceTimersByTime(10_000);

      expect(harness.connection.state).toMatchObject({
        status: 'closed',
        code,
        serverReason: 'server words'
      });
      expect((harness.connection.state as { reason: string }).reason).toMatch(reason);
      expect(FakeSocket.instances).toHaveLength(1);
      harness.connection.dispose();
    });

    it('reconnects after a dropped connection and syncs again', () => {
      jest.useFakeTimers();
      const harness = makeConnection();
      handshake(harness);

      harness.socket.serverClose(1006);
      jest.advanceTimersByTime(3_000);
      const second = FakeSocket.instances[1];
      second.open();
      second.receive(
        syncMessage(encoder => syncProtocol.writeSyncStep2(encoder, harness.server))
      );

      expect(second.url).toBe(harness.socket.url);
      expect(harness.states.map(s => s.status)).toEqual([
        'connected',
        'connected',
        'reconnecting',
        'connected',
        'connected'
      ]);
      expect(harness.connection.state).toEqual({ status: 'connected', synced: true });
      harness.connection.dispose();
    });

    it('is offline after repeated failed attempts', () => {
      jest.useFakeTimers();
      const harness = makeConnection();

      for (let i = 0; i < OFFLINE_AFTER_ATTEMPTS; i++) {
        FakeSocket.instances[i].serverClose(1006);
        jest.advanceTimersByTime(3_000);
      }

      expect(harness.connection.state).toEqual({
        status: 'offline',
        attempts: OFFLINE_AFTER_ATTEMPTS
      });
      expect(FakeSocket.instances).toHaveLength(OFFLINE_AFTER_ATTEMPTS + 1);
      harness.connection.dispose();
    });

    it('stops the socket and withdraws its awareness on dispose', () => {
      const harness = makeConnection();
      handshake(harness);
      const before = harness.socket.sent.length;

      harness.connection.dispose();

      expect(harness.connection.isDisposed).toBe(true);
      expect(harness.socket.readyState).toBe(FakeSocket.CLOSED);
      expect(harness.socket.sent.length).toBeGreaterThan(before);
      expect(harness.socket.sent[harness.socket.sent.length - 1][0]).toBe(
        MessageKind.AWARENESS
      );
    });
  });
});

// ---------------------------------------------------------------------------
// REST

describe('api', () => {
  type Call = { url: string; method: string; body: string };

  function fakeServer(
    answer: () => Response | Promise<Response>
  ): { settings: ServerConnection.ISettings; calls: Call[] } {
    const calls: Call[] = [];
    const settings = makeSettings({
      fetch: async (input: RequestInfo | URL) => {
        const request = input as Request;
        calls.push({
          // without the cache buster JupyterLab adds to no-store requests
          url: request.url.split('?')[0],
          method: request.method,
          body: await request.text()
        });
        return answer();
      }
    });
    return { settings, calls };
  }

  it('opens a session with PUT {type} on the encoded path', async () => {
    const { settings, calls } = fakeServer(
      () => new Response(JSON.stringify({ ...SESSION, path: 'my dir/a#b.txt' }))
    );

    const session = await openSession('my dir/a#b.txt', 'file', settings);

    expect(calls).toEqual([
      {
        url: 'http://localhost:8888/lab-base/api/collab/session/my%20dir/a%23b.txt',
        method: 'PUT',
        body: '{"type":"file"}'
      }
    ]);
    expect(session).toEqual({ ...SESSION, path: 'my dir/a#b.txt' });
  });

  it("turns a non-2xx answer into a ResponseError with the server's message", async () => {
    const { settings } = fakeServer(
      () =>
        new Response(JSON.stringify({ message: 'No such file', reason: null }), {
          status: 404
        })
    );

    const failing = openSession('missing.txt', 'file', settings);

    await expect(failing).rejects.toBeInstanceOf(ServerConnection.ResponseError);
    await expect(failing).rejects.toThrow('No such file');
  });

  it('turns a failed fetch into a NetworkError', async () => {
    const { settings } = fakeServer(() => {
      throw new TypeError('Failed to fetch');
    });

    await expect(requestAPI('anything', {}, settings)).rejects.toBeInstanceOf(
      ServerConnection.NetworkError
    );
  });

  it('rejects an answer that is not a session', () => {
    expect(() => toSession({ ...SESSION, epoch: 3 })).toThrow(TypeError);
    expect(() => toSession({ ...SESSION, type: 'text' })).toThrow(TypeError);
    expect(toSession(SESSION)).toEqual(SESSION);
    // an older server says nothing about executing: allowed, as before roles
    const { can_execute: _omitted, ...older } = SESSION;
    expect(toSession(older).can_execute).toBe(true);
    expect(toSession({ ...SESSION, can_execute: false }).can_execute).toBe(false);
  });
});

// ---------------------------------------------------------------------------
// Readers send nothing

/** The Yjs sync messages (kind 0) sent so far: [sync message type, payload]. */
function sentSync(socket: FakeSocket): [number, Uint8Array][] {
  return socket.sent
    .filter(message => message[0] === MessageKind.SYNC)
    .map(message => {
      const decoder = decoding.createDecoder(message);
      decoding.readVarUint(decoder);
      const type = decoding.readVarUint(decoder);
      return [type, decoding.readVarUint8Array(decoder)];
    });
}

/** How many sync step 2 or update messages the client sent would change `server`. */
function sentChanges(socket: FakeSocket, server: Y.Doc): number {
  const room = Y.encodeStateAsUpdate(server);
  return sentSync(socket).filter(([type, payload]) => {
    if (type === syncProtocol.messageYjsSyncStep1) {
      return false;
    }
    const copy = new Y.Doc();
    Y.applyUpdate(copy, room);
    Y.applyUpdate(copy, payload);
    return !equalBytes(Y.encodeStateAsUpdate(copy), room);
  }).length;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

describe('a reader', () => {
  it("keeps a viewer's local change in the browser: nothing is sent", () => {
    const harness = makeConnection({ role: 'viewer' });
    handshake(harness);
    const sentBefore = harness.socket.sent.length;

    harness.connection.ydoc.getMap('state').set('dirty', false);

    expect(harness.socket.sent.length).toBe(sentBefore);
    expect(harness.connection.heldBack).toBe(1);
    expect(harness.connection.ydoc.getMap('state').get('dirty')).toBe(false);
  });

  it('answers the sync with an empty update, even with changes held back', () => {
    const ydoc = new Y.Doc();
    ydoc.getMap('meta').set('local', 1); // made before connecting
    const harness = makeConnection({ role: 'commenter', ydoc });
    harness.server.getText('source').insert(0, 'shared');

    handshake(harness);

    const answers = sentSync(harness.socket).filter(
      ([type]) => type === syncProtocol.messageYjsSyncStep2
    );
    expect(answers).toHaveLength(1);
    expect(Array.from(answers[0][1])).toEqual([0, 0]);
    expect(sentChanges(harness.socket, harness.server)).toBe(0);
    expect(ydoc.getText('source').toString()).toBe('shared');
  });

  it('sends its edits as an editor, and answers the sync with them', () => {
    const ydoc = new Y.Doc();
    ydoc.getText('source').insert(0, 'offline ');
    const harness = makeConnection({ role: 'editor', ydoc });
    handshake(harness);

    ydoc.getText('source').insert(0, 'typed ');

    expect(sentChanges(harness.socket, harness.server)).toBe(2);
    expect(harness.connection.heldBack).toBe(0);
  });

  it('sends what it held back once raised to editor, before what follows', () => {
    const harness = makeConnection({ role: 'viewer' });
    handshake(harness);
    const ydoc = harness.connection.ydoc;
    ydoc.getMap('meta').set('collapsed', true);
    expect(sentChanges(harness.socket, harness.server)).toBe(0);

    harness.socket.receive(serverEvent({ type: 'role', role: 'editor' }));
    ydoc.getText('source').insert(0, 'now');

    expect(harness.connection.heldBack).toBe(0);
    const updates = sentSync(harness.socket).filter(
      ([type]) => type === syncProtocol.messageYjsUpdate
    );
    expect(updates).toHaveLength(2);
    const room = new Y.Doc();
    updates.forEach(([, update]) => Y.applyUpdate(room, update));
    expect(room.getMap('meta').get('collapsed')).toBe(true);
    expect(room.getText('source').toString()).toBe('now');
    expect(room.store.pendingStructs).toBeNull();
  });

  it('holds back again once lowered to viewer', () => {
    const harness = makeConnection({ role: 'editor' });
    handshake(harness);

    harness.socket.receive(serverEvent({ type: 'role', role: 'viewer' }));
    harness.connection.ydoc.getText('source').insert(0, 'x');

    expect(sentChanges(harness.socket, harness.server)).toBe(0);
    expect(harness.connection.heldBack).toBe(1);
  });
});
