/**
 * Tokens other plugins (ours or others') consume.
 */
import { Token } from '@lumino/coreutils';

import { CollabContentProvider } from './provider';

/**
 * The content provider serving notebooks and text files live. Use it to find a shared
 * model's live document (`documentOf`) and connection (`connectionOf`).
 */
export const ICollabContentProvider = new Token<CollabContentProvider>(
  'jupyter-collab:ICollabContentProvider',
  'The content provider that serves notebooks and text files live.'
);
