import {
  ConnectionInput,
  ConnectionState,
  describeCloseCode,
  INITIAL_STATE,
  nextState,
  OFFLINE_AFTER_ATTEMPTS
} from '../connection';
import { CloseCode } from '../protocol';

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
