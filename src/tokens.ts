/**
 * Tokens other plugins (ours or others') consume.
 */
import { Token } from '@lumino/coreutils';
import { ISignal } from '@lumino/signaling';

import { CommentsModel } from './comments/model';
import { HeadCount } from './presence/head-count';
import { IPresenceEntry, PresenceModel } from './presence/model';
import { CollabContentProvider } from './provider';

/**
 * The content provider serving notebooks and text files live. Use it to find a shared
 * model's live document (`documentOf`) and connection (`connectionOf`).
 */
export const ICollabContentProvider = new Token<CollabContentProvider>(
  'jupyter-collab:ICollabContentProvider',
  'The content provider that serves notebooks and text files live.'
);

/**
 * Who is where on the server, from the presence feed: its model (with the owners'
 * activity numbers), the head count the status bar and the Collaborators panel show
 * ("<n> here · <m> on server"), and "go to a person".
 */
export interface ICollabPresence {
  readonly model: PresenceModel;
  readonly headCount: HeadCount;
  /** Open the document of a presence entry and reveal that person's cell and caret. */
  goTo(entry: IPresenceEntry): Promise<void>;
}

export const ICollabPresence = new Token<ICollabPresence>(
  'jupyter-collab:ICollabPresence',
  'Who is connected to which document and cell, server-wide.'
);

/**
 * The comment threads of every live document, by shared model: what the Comments panel,
 * the cell badges and the editor highlights read, and what another extension would.
 */
export interface ICollabComments {
  /** The model of a live document's threads (`null`: not a live document, or closed). */
  modelOf(sharedModel: unknown): CommentsModel | null;
  /** Emits the shared model whose comments model was made or disposed. */
  readonly modelChanged: ISignal<ICollabComments, unknown>;
}

export const ICollabComments = new Token<ICollabComments>(
  'jupyter-collab:ICollabComments',
  'The comment threads of each live document.'
);
