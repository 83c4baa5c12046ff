/**
 * REST calls to the jupyter-collab server extension (`{base_url}api/collab/...`).
 *
 * Every call goes through `requestAPI`, which turns failures into ServerConnection's
 * error types so plugins can catch them at the call site. Knows nothing about websockets.
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

/**
 * The document types a session can open (docs/PROTOCOL.md, "The session call").
 */
export type DocumentType = 'notebook' | 'file';

/**
 * The server's answer to a session call, field for field.
 */
export interface ISession {
  /** The stored document's id (opaque); the last path segment of `room`. */
  readonly doc_id: string;
  /** The room websocket path, relative to `base_url`, without a leading slash. */
  readonly room: string;
  /** The CRDT history the room holds (opaque); sent as the `epoch` query parameter. */
  readonly epoch: string;
  /** The caller's role in the room; always `"owner"` in this server version. */
  readonly role: string;
  /** The normalized path of the document, relative to the server root. */
  readonly path: string;
  /** The type the document was opened as. */
  readonly type: DocumentType;
}

/**
 * Call `{base_url}api/collab/{endPoint}` and return its JSON body.
 *
 * Args:
 *   endPoint: the path below `api/collab/`, already URL-encoded.
 *   init: the fetch options (method, body, ...).
 *   settings: the server connection settings; JupyterLab's defaults when omitted.
 *
 * Returns:
 *   The parsed JSON body, or `null` for an empty body.
 *
 * Raises:
 *   ServerConnection.NetworkError: the request did not reach the server.
 *   ServerConnection.ResponseError: the server answered with a non-2xx status; its
 *     message is the server's `message` field when the body is Jupyter's JSON error.
 */
export async function requestAPI<T>(
  endPoint: string,
  init: RequestInit = {},
  settings: ServerConnection.ISettings = ServerConnection.makeSettings()
): Promise<T> {
  const url = URLExt.join(settings.baseUrl, 'api/collab', endPoint);

  let response: Response;
  try {
    response = await ServerConnection.makeRequest(url, init, settings);
  } catch (error) {
    if (error instanceof ServerConnection.NetworkError) {
      throw error;
    }
    throw new ServerConnection.NetworkError(error as TypeError);
  }

  const text = await response.text();
  let body: unknown = null;
  if (text.length > 0) {
    try {
      body = JSON.parse(text);
    } catch {
      // A non-JSON body (a proxy's HTML error page, say) is kept as text so that the
      // ResponseError below can still show it; a 2xx answer with it is an error too.
      body = text;
    }
  }

  if (!response.ok) {
    const message =
      isRecord(body) && typeof body.message === 'string'
        ? body.message
        : typeof body === 'string' && body.length > 0
          ? body
          : undefined;
    const traceback =
      isRecord(body) && typeof body.traceback === 'string'
        ? body.traceback
        : undefined;
    throw new ServerConnection.ResponseError(response, message, traceback);
  }
  if (typeof body === 'string') {
    throw new ServerConnection.ResponseError(
      response,
      `Invalid JSON in the answer to ${url}`
    );
  }
  return body as T;
}

/**
 * Open `path` as a collaborative document and learn which room serves it.
 *
 * The call is idempotent: while the server holds the document's history it returns the
 * same doc id and epoch, so calling it again after a `reload` gives the current ones.
 *
 * Raises:
 *   ServerConnection.NetworkError: the server could not be reached.
 *   ServerConnection.ResponseError: 400 (not openable as `type`), 403, 404 (no such
 *     file), 409 (open right now as the other type), 500.
 *   TypeError: the answer does not have the shape of a session.
 */
export async function openSession(
  path: string,
  type: DocumentType,
  settings?: ServerConnection.ISettings
): Promise<ISession> {
  const body = await requestAPI<unknown>(
    URLExt.join('session', URLExt.encodeParts(path)),
    { method: 'PUT', body: JSON.stringify({ type }) },
    settings
  );
  return toSession(body);
}

/**
 * Narrow an untrusted JSON value to an `ISession`.
 *
 * Raises:
 *   TypeError: a field is missing or has the wrong type.
 */
export function toSession(body: unknown): ISession {
  if (
    !isRecord(body) ||
    typeof body.doc_id !== 'string' ||
    typeof body.room !== 'string' ||
    typeof body.epoch !== 'string' ||
    typeof body.role !== 'string' ||
    typeof body.path !== 'string' ||
    (body.type !== 'notebook' && body.type !== 'file')
  ) {
    throw new TypeError(
      `Not a collab session answer: ${JSON.stringify(body)}`.slice(0, 300)
    );
  }
  return {
    doc_id: body.doc_id,
    room: body.room,
    epoch: body.epoch,
    role: body.role,
    path: body.path,
    type: body.type
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
