/**
 * Roles in the browser: read-only editors and the notice for viewers and commenters.
 */
export * from './read-only';
export * from './locks';
export * from './refusal';
export * from './edits';
export * from './command-guard';
export * from './notebook-guard';
export * from './role-notice';
