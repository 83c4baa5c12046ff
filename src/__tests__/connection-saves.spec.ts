import * as syncProtocol from 'y-protocols/sync';

import { ISavedEvent, SaveError } from '../connection';

import {
  handshake,
  makeConnection,
  resetConnectionTests,
  serverEvent,
  syncMessage
} from './connection-helpers';

afterEach(resetConnectionTests);

// ---------------------------------------------------------------------------
// Saving through the room

describe('CollabConnection', () => {
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
});
