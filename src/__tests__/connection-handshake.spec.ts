import * as syncProtocol from 'y-protocols/sync';
import * as Y from 'yjs';

import { CollabConnection, OFFLINE_AFTER_ATTEMPTS } from '../connection';
import { CloseCode, MessageKind } from '../protocol';

import {
  FakeSocket,
  handshake,
  makeConnection,
  makeSettings,
  resetConnectionTests,
  serverEvent,
  SESSION,
  syncMessage
} from './connection-helpers';

afterEach(resetConnectionTests);

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
