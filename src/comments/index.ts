/**
 * Comments in the browser: the threads of a document, the Comments panel, cell badges.
 */
export * from './cell-badges';
export * from './diff';
export * from './mentions';
export * from './model';
export * from './panel';
export * from './highlight';
export * from './ranges';
