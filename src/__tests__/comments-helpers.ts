/**
 * A comment thread as the server sends it, for the comments specs.
 */
import { ICommentThread } from '../connection';

/** A thread by bob on cell c1 with one message, with `overrides`. */
export function thread(id: string, overrides: Partial<ICommentThread> = {}): ICommentThread {
  return {
    id,
    anchor: { kind: 'cell', cell_id: 'c1', quote: 'x = 1' },
    author: 'bob',
    created_at: 100,
    private: false,
    status: 'open',
    resolved_by: null,
    resolved_at: null,
    detached: false,
    suggestion: null,
    suggestion_state: null,
    messages: [
      {
        id: `${id}-m1`,
        author: 'bob',
        body: 'why?',
        mentions: [],
        created_at: 100,
        edited_at: null,
        deleted: false,
        deleted_by: null
      }
    ],
    ...overrides
  };
}
