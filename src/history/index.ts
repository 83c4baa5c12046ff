/**
 * The History panel: versions of a document listed, previewed, compared and restored.
 */
export * from './api';
export * from './model';
export * from './panel';
export * from './views';
