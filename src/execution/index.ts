/**
 * Running code in the browser: who may, what the notebook shows to those who may not,
 * and the guards that keep their outputs untouched (see `plugins/execution.ts`).
 */
export * from './executor';
export * from './outputs';
export * from './rights';
export * from './view';
export * from './runs';
export * from './run-view';
