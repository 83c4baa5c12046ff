/**
 * Websocket message kinds: the first varuint of every binary message.
 *
 * Mirrors jupyter_collab/protocol.py; change both (and docs/PROTOCOL.md) together.
 */
export const MessageKind = {
  SYNC: 0,
  AWARENESS: 1,
  AUTH: 2,
  QUERY_AWARENESS: 3,
  EVENT: 4
} as const;

export type MessageKind = (typeof MessageKind)[keyof typeof MessageKind];

/**
 * Websocket close codes the server uses (4000 + the matching HTTP status).
 *
 * Mirrors `CloseCode` in jupyter_collab/close_codes.py (re-exported by protocol.py);
 * change both (and docs/PROTOCOL.md) together.
 */
export const CloseCode = {
  BAD_MESSAGE: 4400,
  FORBIDDEN: 4403,
  NOT_FOUND: 4404,
  HANDSHAKE_TIMEOUT: 4408,
  STALE_EPOCH: 4409,
  GONE: 4410,
  TOO_LARGE: 4413,
  TOO_MANY: 4429,
  INTERNAL: 4500
} as const;

export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

/**
 * The standard websocket close codes (RFC 6455, section 7.4.1) that jupyter-collab sends
 * or reads; our own are `CloseCode`.
 *
 * Mirrors `StandardCloseCode` in jupyter_collab/close_codes.py; change both together.
 */
export const StandardCloseCode = {
  /** Closed on purpose by its owner (this client disposing a connection). */
  NORMAL: 1000,
  /** The server is shutting down; clients reconnect. */
  GOING_AWAY: 1001,
  /** A message over the server's size limit (tornado's code). */
  TOO_BIG: 1009
} as const;

export type StandardCloseCode =
  (typeof StandardCloseCode)[keyof typeof StandardCloseCode];

/**
 * Whether a close code means that reconnecting to the same URL cannot help: the
 * server's 4400-4499 codes (4000 + an HTTP 4xx status), the range y-websocket's default
 * `shouldReconnect` gives up on. The server's other codes (`INTERNAL`) are transient.
 */
export function isPermanentCloseCode(code: number): boolean {
  return code >= 4400 && code < 4500;
}
