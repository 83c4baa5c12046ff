/**
 * Shared by the connection-*.spec.ts tests: a fake WebSocket the test plays the server
 * with, the session and settings it connects with, and the server's side of the
 * handshake. Not a test file itself (jest runs only *.spec.ts).
 */
import { ServerConnection } from '@jupyterlab/services';
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import * as syncProtocol from 'y-protocols/sync';
import * as Y from 'yjs';

import { ISession } from '../api';
import { CollabConnection, ConnectionState, ServerEvent } from '../connection';
import { MessageKind } from '../protocol';

/** Frame an event the way the server does: varUint(4) varString(compact JSON). */
export function serverEvent(event: object): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, MessageKind.EVENT);
  encoding.writeVarString(encoder, JSON.stringify(event));
  return encoding.toUint8Array(encoder);
}

export function syncMessage(write: (encoder: encoding.Encoder) => void): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, MessageKind.SYNC);
  write(encoder);
  return encoding.toUint8Array(encoder);
}

/**
 * A WebSocket stand-in that records what the client sends and lets the test play the
 * server. No network.
 */
export class FakeSocket {
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

export const SESSION: ISession = {
  doc_id: '4baa07b3-0a51-4b9f-8fec-c31389fffa85',
  room: 'api/collab/room/4baa07b3-0a51-4b9f-8fec-c31389fffa85',
  epoch: '9e974086be654216',
  role: 'owner',
  can_execute: true,
  path: 'notes.txt',
  type: 'file'
};

export function makeSettings(
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

export interface IHarness {
  connection: CollabConnection;
  socket: FakeSocket;
  server: Y.Doc;
  states: ConnectionState[];
  events: ServerEvent[];
}

export function makeConnection(
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
export function handshake(harness: IHarness): void {
  const { socket, server } = harness;
  socket.open();
  socket.receive(
    syncMessage(encoder => syncProtocol.writeSyncStep1(encoder, server))
  );
  socket.receive(
    syncMessage(encoder => syncProtocol.writeSyncStep2(encoder, server))
  );
}

/** Forget the sockets of the last test and go back to real timers (run after each test). */
export function resetConnectionTests(): void {
  FakeSocket.instances = [];
  jest.useRealTimers();
}
