/**
 * Presence: who is on the server and where (the feed, the Collaborators panel), and who
 * is in which notebook cell (the cell markers).
 */
export * from './cell-markers';
export * from './feed';
export * from './head-count';
export * from './jump';
export * from './model';
export * from './panel';
