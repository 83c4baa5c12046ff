import { decodeEventMessage, encodeEvent } from '../connection';

import { serverEvent } from './connection-helpers';

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
