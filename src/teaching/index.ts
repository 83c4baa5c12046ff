/**
 * Teaching: the owners' activity numbers, the class dashboard, following a person and
 * presenting a document (see `plugins/teaching.ts`).
 */
export * from './activity';
export * from './dashboard';
export * from './follow';
export * from './scroll';
export * from './doc-activity';
