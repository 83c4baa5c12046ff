import { ServerConnection } from '@jupyterlab/services';
import * as Y from 'yjs';

import { openSession, requestAPI, toSession } from '../api';
import { CollabConnection, roomAddress } from '../connection';

import {
  FakeSocket,
  makeConnection,
  makeSettings,
  resetConnectionTests,
  SESSION
} from './connection-helpers';

afterEach(resetConnectionTests);

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
