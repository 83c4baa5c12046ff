/**
 * Setting one's own display name: the rules, and the call that keeps it.
 *
 * JupyterLab's identity (`api/me`) is where the name lives: the server's identity
 * provider keeps it (the default one in its login cookie, which outlasts reloads and
 * server restarts), and JupyterLab shows it everywhere once `refreshUser()` ran. Rooms
 * stamp names when a connection joins, so the rooms are also told (a `name` event) to
 * show it at once. Guests chose their name on the join page and keep it.
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

/** The longest display name the server accepts in a `name` event. */
export const MAX_DISPLAY_NAME = 60;

/** The identity fields set together: the name twice (JupyterLab shows both) and initials. */
const NAME_FIELDS = ['name', 'display_name', 'initials'] as const;

/**
 * What the server says about the current user (`api/me`), the parts read here.
 */
export interface IIdentityInfo {
  readonly username: string;
  /** The fields the identity provider lets this user change (`api/me` permissions). */
  readonly updatableFields: readonly string[] | null;
}

/** Whitespace runs become one space; ends trimmed (as the server does). */
export function normalizeDisplayName(raw: string): string {
  return raw.split(/\s+/).filter(Boolean).join(' ');
}

/**
 * Why `name` (normalized) cannot be a display name, or `null` when it can.
 */
export function checkDisplayName(name: string): string | null {
  if (name.length === 0) {
    return 'A display name cannot be empty.';
  }
  if (name.length > MAX_DISPLAY_NAME) {
    return `A display name has at most ${MAX_DISPLAY_NAME} characters.`;
  }
  return null;
}

/** Share-link guests are `guest:<link>:<id>` (jupyter_collab/access.py). */
export function isGuest(username: string): boolean {
  return username.startsWith('guest:');
}

/**
 * Whether this user may set their display name: not a guest, and the identity provider
 * lets them change it (JupyterHub's, for one, does not by default).
 */
export function canSetDisplayName(identity: IIdentityInfo | null): boolean {
  if (identity === null || isGuest(identity.username)) {
    return false;
  }
  return identity.updatableFields?.includes('display_name') ?? false;
}

/** The initials of a name: first letters of its first two words, upper-cased. */
export function initialsFor(name: string): string {
  const words = name.split(' ').filter(Boolean);
  return words.slice(0, 2).map(word => [...word][0].toUpperCase()).join('') || '?';
}

/**
 * Ask the identity provider to keep `name` (`PATCH api/me`): `display_name`, and `name`
 * and `initials` where the provider lets them change.
 *
 * Raises (rejects with):
 *   ServerConnection.ResponseError: the server refused (its message says why).
 *   ServerConnection.NetworkError: the server could not be reached.
 */
export async function saveDisplayName(
  name: string,
  updatableFields: readonly string[],
  settings: ServerConnection.ISettings = ServerConnection.makeSettings()
): Promise<void> {
  const values: Record<(typeof NAME_FIELDS)[number], string> = {
    name,
    display_name: name,
    initials: initialsFor(name)
  };
  const body: Record<string, string> = {};
  for (const field of NAME_FIELDS) {
    if (updatableFields.includes(field)) {
      body[field] = values[field];
    }
  }
  const url = URLExt.join(settings.baseUrl, 'api/me');
  const response = await ServerConnection.makeRequest(
    url,
    { method: 'PATCH', body: JSON.stringify(body) },
    settings
  );
  if (!response.ok) {
    throw await ServerConnection.ResponseError.create(response);
  }
}
