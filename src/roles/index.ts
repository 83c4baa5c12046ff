/**
 * Roles in the browser: read-only editors and the notice for viewers and commenters.
 */
export * from './read-only';
export * from './locks';
