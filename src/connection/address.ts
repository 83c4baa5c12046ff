/**
 * Where a session's room is, in the shape y-websocket takes: a server URL, a room name
 * and query parameters. Pure: a function of the session answer and the server settings.
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

import { ISession } from '../api';

/**
 * Where y-websocket connects: it joins `serverUrl + '/' + roomname + '?' + params`.
 */
export interface IRoomAddress {
  readonly serverUrl: string;
  readonly roomname: string;
  readonly params: { readonly [key: string]: string };
}

/**
 * The y-websocket arguments for a session's room.
 *
 * The room path comes from the server (`api/collab/room/<doc_id>`) and is used as is:
 * y-websocket does not encode the room name, and a doc id needs no encoding.
 * The token goes in the query only when the settings say so (`appendToken`: outside a
 * browser, where a websocket cannot carry an Authorization header); in the browser the
 * cookie authenticates.
 */
export function roomAddress(
  session: Pick<ISession, 'room' | 'epoch'>,
  settings: Pick<ServerConnection.ISettings, 'wsUrl' | 'token' | 'appendToken'>
): IRoomAddress {
  const url = URLExt.join(settings.wsUrl, session.room);
  const cut = url.lastIndexOf('/');
  const params: { [key: string]: string } = { epoch: session.epoch };
  if (settings.appendToken && settings.token) {
    params.token = settings.token;
  }
  return {
    serverUrl: url.slice(0, cut),
    roomname: url.slice(cut + 1),
    params
  };
}
