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
  /** The caller's role on the document: owner, editor, commenter or viewer. */
  readonly role: string;
  /** Whether the caller may start kernels (run code); `true` from older servers. */
  readonly can_execute: boolean;
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
    can_execute: body.can_execute !== false,
    path: body.path,
    type: body.type
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// -- roles and sharing (docs/PROTOCOL.md, "Roles", "Share links and guests") -----------

/** A role given to one person on a file or a folder above it. */
export interface IMembership {
  readonly path: string;
  readonly principal: string;
  readonly role: string;
  readonly granted_by: string;
  readonly granted_at: number;
}

/** Someone who joined through a share link, with the name they chose. */
export interface ILinkGuest {
  readonly name: string;
  /** Seconds since the epoch. */
  readonly joined_at: number;
}

/** A share link: guests who open `url` get `role` on `path`. */
export interface IShareLink {
  readonly id: string;
  readonly path: string;
  readonly role: string;
  /** The owners' name for the link ("Period 3"); `''` when none. */
  readonly label: string;
  /** Relative to the server's origin: `{base_url}collab/join/<token>`. */
  readonly url: string;
  /** The creator's username (under token login, a random id). */
  readonly created_by: string;
  /** The creator's display name when the link was made. */
  readonly created_by_name: string;
  readonly created_at: number;
  readonly expires_at: number | null;
  readonly revoked_at: number | null;
  readonly active: boolean;
  /** When one of its guests last joined or made a request; `null`: never used. */
  readonly last_used_at: number | null;
  /** Who joined through it, oldest first. */
  readonly guests: ReadonlyArray<ILinkGuest>;
}

/** What `updateLink` may change (at least one of them). */
export interface ILinkChange {
  readonly role?: string;
  readonly label?: string;
}

/** The sharing calls, as one object (the share dialog takes it; tests replace it). */
export interface ISharingAPI {
  members(path: string): Promise<{ role: string; members: IMembership[] }>;
  grant(path: string, principal: string, role: string): Promise<IMembership>;
  revoke(path: string, principal: string): Promise<void>;
  links(path: string): Promise<IShareLink[]>;
  createLink(
    path: string,
    role: string,
    expiresInSeconds: number | null,
    label?: string
  ): Promise<IShareLink>;
  updateLink(path: string, id: string, change: ILinkChange): Promise<IShareLink>;
  revokeLink(path: string, id: string): Promise<void>;
}

/**
 * Narrow an untrusted JSON value to an `IShareLink`. Fields newer than the server (label,
 * creator's name, guests, last use) get their empty values.
 *
 * Raises:
 *   TypeError: a field is missing or has the wrong type.
 */
export function toShareLink(body: unknown): IShareLink {
  const time = (value: unknown): value is number | null =>
    value === null || typeof value === 'number';
  const optional = (value: unknown, check: (v: unknown) => boolean) =>
    value === undefined || check(value);
  const guests = isRecord(body) ? (body.guests ?? []) : null;
  if (
    !isRecord(body) ||
    typeof body.id !== 'string' ||
    typeof body.path !== 'string' ||
    typeof body.role !== 'string' ||
    typeof body.url !== 'string' ||
    typeof body.created_by !== 'string' ||
    typeof body.created_at !== 'number' ||
    !time(body.expires_at) ||
    !time(body.revoked_at) ||
    typeof body.active !== 'boolean' ||
    !optional(body.label, v => typeof v === 'string') ||
    !optional(body.created_by_name, v => typeof v === 'string') ||
    !optional(body.last_used_at, time) ||
    !Array.isArray(guests) ||
    !guests.every(
      g => isRecord(g) && typeof g.name === 'string' && typeof g.joined_at === 'number'
    )
  ) {
    throw new TypeError(`Not a share link: ${JSON.stringify(body)}`.slice(0, 300));
  }
  return {
    id: body.id,
    path: body.path,
    role: body.role,
    label: (body.label as string | undefined) ?? '',
    url: body.url,
    created_by: body.created_by,
    created_by_name: (body.created_by_name as string | undefined) || body.created_by,
    created_at: body.created_at,
    expires_at: body.expires_at,
    revoked_at: body.revoked_at,
    active: body.active,
    last_used_at: (body.last_used_at as number | null | undefined) ?? null,
    guests: (guests as Array<Record<string, unknown>>).map(g => ({
      name: g.name as string,
      joined_at: g.joined_at as number
    }))
  };
}

/**
 * The sharing calls against a server.
 *
 * Raises (each call rejects with): ServerConnection.NetworkError, or ResponseError with
 * the server's message (403 for non-owners, 400 for a bad role or label, 404 for nothing
 * there); TypeError when a link in the answer does not have the shape of one.
 */
export function sharingAPI(settings?: ServerConnection.ISettings): ISharingAPI {
  const at = (what: string, path: string) =>
    URLExt.join(what, URLExt.encodeParts(path.replace(/^\/+/, '')));
  const json = (method: string, body?: unknown): RequestInit => ({
    method,
    body: body === undefined ? undefined : JSON.stringify(body)
  });
  return {
    members: path => requestAPI(at('members', path), {}, settings),
    grant: (path, principal, role) =>
      requestAPI(at('members', path), json('PUT', { principal, role }), settings),
    revoke: async (path, principal) => {
      const query = URLExt.objectToQueryString({ principal });
      await requestAPI(at('members', path) + query, json('DELETE'), settings);
    },
    links: async path => {
      const body = await requestAPI<unknown>(at('links', path), {}, settings);
      if (!isRecord(body) || !Array.isArray(body.links)) {
        throw new TypeError(`Not a list of share links: ${JSON.stringify(body)}`.slice(0, 300));
      }
      return body.links.map(toShareLink);
    },
    createLink: async (path, role, expiresInSeconds, label = '') =>
      toShareLink(
        await requestAPI<unknown>(
          at('links', path),
          json('POST', { role, expires_in_seconds: expiresInSeconds, label }),
          settings
        )
      ),
    updateLink: async (path, id, change) =>
      toShareLink(
        await requestAPI<unknown>(
          at('links', path) + URLExt.objectToQueryString({ id }),
          json('PATCH', change),
          settings
        )
      ),
    revokeLink: async (path, id) => {
      const query = URLExt.objectToQueryString({ id });
      await requestAPI(at('links', path) + query, json('DELETE'), settings);
    }
  };
}
